// An OpenID Connect provider on loopback for the single sign-on tests and the development demo:
// the certified `oidc-provider` package, with a login page of our own (any login, no password;
// a box for "a second factor was used", which puts "otp" in the ID token's amr).
//
//   node tests/sso/oidc_provider.mjs '<settings as JSON>'
//
// settings: {"port": 0, "redirect_uris": [...], "accounts": {"login": {"claim": "value"}},
//            "code_ttl": 60}. It prints "ready <port>" once listening.
//
// Besides the client "carnet", three clients whose ID tokens this script spoils on the way out,
// so that the tests see Carnet refuse them: "carnet-tampered" (a claim changed after signing),
// "carnet-nonce" (signed anew with another nonce) and "carnet-audience" (signed anew for
// another client).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';

const settings = JSON.parse(process.argv[2] || '{}');
const accounts = settings.accounts || {};
const secret = settings.client_secret || 'carnet-test-secret';

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'carnet-test', alg: 'RS256', use: 'sig' };

const clients = ['carnet', 'carnet-tampered', 'carnet-nonce', 'carnet-audience'].map((id) => ({
  client_id: id,
  client_secret: secret,
  redirect_uris: settings.redirect_uris || [],
  post_logout_redirect_uris: settings.redirect_uris || [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
}));

const server = http.createServer();
await new Promise((resolve) => server.listen(settings.port || 0, '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(16).toString('hex')] },
  claims: { openid: ['sub', 'amr'], profile: ['name', 'profil', 'ent_login'] },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  ttl: { AuthorizationCode: settings.code_ttl || 60 },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...(accounts[id] || {}) };
      },
    };
  },
});

async function resign(idToken, changes) {
  const claims = { ...decodeJwt(idToken), ...changes };
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(privateKey);
}

provider.use(async (ctx, next) => {
  await next();
  const client = ctx.oidc && ctx.oidc.client && ctx.oidc.client.clientId;
  if (ctx.path !== '/token' || !ctx.body || !ctx.body.id_token) return;
  if (client === 'carnet-tampered') {
    const [head, payload, signature] = ctx.body.id_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url'));
    claims.sub = 'someone-else';
    ctx.body.id_token = [head, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  } else if (client === 'carnet-nonce') {
    ctx.body.id_token = await resign(ctx.body.id_token, { nonce: 'not-the-one-sent' });
  } else if (client === 'carnet-audience') {
    ctx.body.id_token = await resign(ctx.body.id_token, { aud: 'another-client' });
  }
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid, details) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test identity provider</title></head><body style="font-family:sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem">
<h1>Test identity provider</h1>
<p>Log in to <b>${escape(details.params.client_id)}</b> as anyone: no password is asked.</p>
<form method="post" action="/interaction/${escape(uid)}">
<p><label>Login <input name="login" autofocus required></label></p>
<p><label><input type="checkbox" name="mfa" value="1"> A second factor was used</label></p>
<p><button type="submit">Log in</button></p></form></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(match[1], details));
    }
    const form = await readForm(req);
    const accountId = (form.get('login') || '').trim();
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const amr = form.get('mfa') ? ['pwd', 'otp'] : ['pwd'];
    return await provider.interactionFinished(
      req,
      res,
      { login: { accountId, amr }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    return res.end(String(error));
  }
});

process.stdout.write(`ready ${port}\n`);
process.on('SIGTERM', () => process.exit(0));
