import { Account } from "./account";

export default function Home() {
  return (
    <main>
      <h1>sessionpulse + Next.js</h1>
      <Account openId={Boolean(process.env.OIDC_ISSUER)} />
    </main>
  );
}
