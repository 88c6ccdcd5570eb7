// A single sign-on server for the tests of the OpenID Connect login (tests/test_hub.py): panva's oidc-provider
// (npm, certified by the OpenID Foundation), as a city's Keycloak or Entra ID would answer the hub.
//
// node tests/oidc_provider.mjs MODULE PORT CLIENT_JSON ACCOUNTS_JSON
//   MODULE    path of the installed oidc-provider package (make test puts it into .venv/node)
//   CLIENT    {"client_id", "client_secret", "redirect_uris"}
//   ACCOUNTS  {"<login>": {"password": "…", "groups": ["…"]}}
// Its sign-in page checks the password; the token's claims carry preferred_username and groups.
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import path from "node:path";

const [moduleDir, port, clientJson, accountsJson] = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(path.join(moduleDir, "package.json"), "utf8"));
const entry = typeof pkg.exports === "string" ? pkg.exports : (pkg.exports?.["."]?.import ?? pkg.exports?.["."] ?? pkg.main);
const { default: Provider } = await import(pathToFileURL(path.join(moduleDir, entry)).href);
const client = JSON.parse(clientJson);
const accounts = JSON.parse(accountsJson);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{ ...client, grant_types: ["authorization_code"], response_types: ["code"],
              token_endpoint_auth_method: "client_secret_post" }],
  claims: { openid: ["sub"], profile: ["preferred_username", "name"], groups: ["groups"] },
  scopes: ["openid", "profile", "groups"],
  async findAccount(_ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, name: id, groups: accounts[id].groups }) };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => false },
  cookies: { keys: ["kim-test-cookie-key"] },
  conformIdTokenClaims: false,   // the claims also in the ID token, as Keycloak sends them
  loadExistingGrant: async (ctx) => {   // consent given by the city's IT for its own hub: no consent page
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile groups");
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const page = (uid, problem) => `<!DOCTYPE html><html><body><h1>Stadt – Anmeldung</h1>${problem ? `<p class="problem">${problem}</p>` : ""}
<form method="post" action="/interaction/${uid}/login">
<input name="login" autocomplete="username"><input name="password" type="password"><button type="submit">Anmelden</button>
</form></body></html>`;

const body = async (req) => {
  let data = "";
  for await (const chunk of req) data += chunk;
  return Object.fromEntries(new URLSearchParams(data));
};

const server = (await import("node:http")).createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return provider.callback()(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (!match[2]) {
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      return res.end(page(details.uid));
    }
    const { login, password } = await body(req);
    if (!accounts[login] || accounts[login].password !== password) {
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      return res.end(page(details.uid, "Benutzername oder Passwort falsch."));
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
server.listen(Number(port), "127.0.0.1", () => console.log(`oidc provider at ${issuer}`));
