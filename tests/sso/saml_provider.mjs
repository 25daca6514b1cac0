// A SAML 2.0 identity provider on loopback for the single sign-on tests: the maintained
// `samlify` package as the IdP, with a login page of our own (any login, no password).
//
//   node tests/sso/saml_provider.mjs '<settings as JSON>'
//
// settings: {"port": 0, "key": "<PEM>", "cert": "<PEM>", "sp_metadata": "<Carnet's metadata>"}.
// It prints "ready <port>" once listening; its own metadata are at /metadata, its single
// sign-on service (HTTP-Redirect) at /sso. The NameID of the response is the login typed.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import samlify from 'samlify';

const settings = JSON.parse(process.argv[2] || '{}');
// The requests come from Carnet, whose own tests check their shape: no XML schema here.
samlify.setSchemaValidator({ validate: () => Promise.resolve('not checked by this test provider') });

const server = http.createServer();
await new Promise((resolve) => server.listen(settings.port || 0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

// samlify's own template leaves the AuthnStatement out, which the Web Browser SSO profile
// requires (saml-profiles §4.1.4.2): this one has it.
const template = samlify.SamlLib.defaultLoginResponseTemplate.context
  .replace(
    '{AuthnStatement}',
    '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}">' +
      '<saml:AuthnContext><saml:AuthnContextClassRef>{AuthnContextClassRef}' +
      '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>',
  )
  .replace('{AttributeStatement}', '');
const idp = samlify.IdentityProvider({
  entityID: `${base}/metadata`,
  loginResponseTemplate: { context: template, attributes: [] },
  privateKey: settings.key,
  signingCert: settings.cert,
  isAssertionEncrypted: false,
  nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
  singleSignOnService: [
    { Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` },
  ],
});
const sp = samlify.ServiceProvider({ metadata: settings.sp_metadata });
const waiting = new Map();

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function page(title, inner) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="font-family:sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem">
<h1>${title}</h1>${inner}</body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, base);
  try {
    if (url.pathname === '/metadata') {
      return send(res, 200, idp.getMetadata(), 'application/samlmetadata+xml');
    }
    if (url.pathname === '/sso' && req.method === 'GET') {
      const query = Object.fromEntries(url.searchParams);
      const request = await idp.parseLoginRequest(sp, 'redirect', { query });
      const token = randomBytes(12).toString('hex');
      waiting.set(token, { request, relayState: query.RelayState });
      return send(res, 200, page('Test SAML provider', `<p>Log in as anyone: no password.</p>
<form method="post" action="/sso"><input type="hidden" name="token" value="${token}">
<p><label>Login <input name="login" autofocus required></label></p>
<p><label><input type="checkbox" name="mfa" value="1"> A second factor was used</label></p>
<p><button type="submit">Log in</button></p></form>`));
    }
    if (url.pathname === '/sso' && req.method === 'POST') {
      const form = await readForm(req);
      const kept = waiting.get(form.get('token'));
      waiting.delete(form.get('token'));
      if (!kept) return send(res, 400, 'unknown request', 'text/plain');
      const login = (form.get('login') || '').trim();
      const now = new Date();
      const until = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
      const acs = sp.entityMeta.getAssertionConsumerService(samlify.Constants.namespace.binding.post);
      const id = `_${randomBytes(16).toString('hex')}`;
      const values = {
        ID: id,
        AssertionID: `_${randomBytes(16).toString('hex')}`,
        Destination: acs,
        Audience: sp.entityMeta.getEntityID(),
        SubjectRecipient: acs,
        Issuer: idp.entityMeta.getEntityID(),
        IssueInstant: now.toISOString(),
        StatusCode: samlify.Constants.StatusCode.Success,
        ConditionsNotBefore: now.toISOString(),
        ConditionsNotOnOrAfter: until,
        SubjectConfirmationDataNotOnOrAfter: until,
        NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
        NameID: login,
        InResponseTo: kept.request.extract.request.id,
        SessionIndex: `_${randomBytes(8).toString('hex')}`,
        AuthnContextClassRef: form.get('mfa')
          ? 'https://refeds.org/profile/mfa'
          : 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
      };
      const answer = await idp.createLoginResponse(
        sp,
        { extract: kept.request.extract },
        'post',
        { email: login },
        (context) => ({ id, context: samlify.SamlLib.replaceTagsByValue(context, values) }),
      );
      return send(res, 200, page('Back to Carnet', `
<form method="post" action="${escape(answer.entityEndpoint)}">
<input type="hidden" name="SAMLResponse" value="${escape(answer.context)}">
<p><button type="submit">Continue</button></p></form>`));
    }
    return send(res, 404, 'not found', 'text/plain');
  } catch (error) {
    return send(res, 400, String(error), 'text/plain');
  }
});

process.stdout.write(`ready ${server.address().port}\n`);
process.on('SIGTERM', () => process.exit(0));
