// Modules README snippets import that the project does not install (Next.js).
declare module "next/headers" {
  export function headers(): Promise<Headers>;
}
