// ssh2 ships no type declarations. trainops loads its client class alone (ssh2-handshake.ts),
// which types the few members it uses (ssh2-types.ts); the module itself is opaque here.
declare module "ssh2/lib/client.js" {
  const Client: unknown;
  export default Client;
}
