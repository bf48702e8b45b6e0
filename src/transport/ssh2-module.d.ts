// ssh2 ships no type declarations. trainops reaches its client through ssh2-handshake.ts, which
// types the few members it uses (ssh2-types.ts); the module itself is opaque here.
declare module "ssh2" {
  const ssh2: { Client: unknown };
  export default ssh2;
}
