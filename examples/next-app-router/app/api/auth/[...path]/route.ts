import { auth } from "../../../../auth";

export const GET = auth.handler;
export const POST = auth.handler;
