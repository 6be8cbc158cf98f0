// A local OAuth 2 / OpenID Connect provider for the tests, built on oauth2-mock-server.
//
// The mock issues real codes (GET /authorize redirects with one) and real signed access tokens
// (POST /token). Around it this adds what the tests need and the mock lacks:
//   - per-test people: /authorize takes `user` = base64url JSON {provider, id, email, verified,
//     name, picture}; the code it hands out is bound to that person, to the client id and to
//     the redirect URI;
//   - a strict token endpoint: an unknown or reused code, another client's code, a wrong
//     redirect URI or a wrong client secret ("secret-<client_id>") is refused with invalid_grant;
//   - each provider's own profile API and shape, answered only for a token it issued:
//     /kakao/v2/user/me, /google/oauth2/v2/userinfo, /naver/v1/nid/me, /github/user,
//     /github/user/emails, /oidc/userinfo.
//
// usage: node oauth-provider.mjs PORT
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 8090);
const issuer = new OAuth2Issuer();
issuer.url = `http://127.0.0.1:${port}`;
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);

const codes = new Map(); // code -> { person, clientId, redirectUri }
const tokens = new Map(); // access token -> person

// The mock signs its claims at one-second resolution: two token requests for the same client in
// the same second (parallel tests) got the same access token, and the second person replaced
// the first in `tokens`. A unique claim gives every token its own value.
service.on('beforeTokenSigning', (token) => {
  token.payload.jti = randomUUID();
});

service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  const raw = req.query.user;
  if (!code || typeof raw !== 'string') return;
  const person = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  codes.set(code, { person, clientId: req.query.client_id, redirectUri: req.query.redirect_uri });
});

service.on('beforeResponse', (response, req) => {
  const body = req.body || {};
  const grant = codes.get(body.code);
  codes.delete(body.code); // single use
  const clientId = body.client_id;
  const expectedSecret = `secret-${clientId}`;
  const problems = [];
  if (!grant) problems.push('unknown or used code');
  else {
    if (grant.clientId !== clientId) problems.push('code issued to another client');
    if (grant.redirectUri !== body.redirect_uri) problems.push('redirect_uri mismatch');
    // Kakao may be configured without a secret; every other provider must send the right one.
    const secretOptional = grant.person.provider === 'kakao' && body.client_secret === undefined;
    if (!secretOptional && body.client_secret !== expectedSecret) problems.push('bad client secret');
    if (grant.person.provider === 'naver' && !body.state) problems.push('naver needs state');
  }
  if (problems.length) {
    response.statusCode = 400;
    response.body = { error: 'invalid_grant', error_description: problems.join(', ') };
    return;
  }
  tokens.set(response.body.access_token, grant.person);
});

function shape(path, p) {
  const verified = p.verified !== false;
  switch (path) {
    case '/kakao/v2/user/me':
      return {
        id: Number(p.id),
        properties: { nickname: p.name, profile_image: p.picture },
        kakao_account: p.email
          ? { email: p.email, is_email_valid: true, is_email_verified: verified }
          : { email_needs_agreement: true },
      };
    case '/google/oauth2/v2/userinfo':
      return { id: String(p.id), email: p.email, verified_email: verified, name: p.name, picture: p.picture };
    case '/naver/v1/nid/me':
      return { resultcode: '00', message: 'success', response: { id: String(p.id), email: p.email, name: p.name, profile_image: p.picture } };
    case '/github/user':
      return { id: Number(p.id), login: p.name, name: p.name, avatar_url: p.picture, email: null };
    case '/github/user/emails':
      return p.email ? [{ email: p.email, primary: true, verified }] : [];
    case '/oidc/userinfo':
      return { sub: String(p.id), email: p.email, email_verified: verified, name: p.name, picture: p.picture };
    default:
      return undefined;
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer.url);
  const profilePaths = ['/kakao/v2/user/me', '/google/oauth2/v2/userinfo', '/naver/v1/nid/me',
    '/github/user', '/github/user/emails', '/oidc/userinfo'];
  if (profilePaths.includes(url.pathname)) {
    const auth = req.headers.authorization || '';
    const person = tokens.get(auth.replace(/^Bearer /, ''));
    res.setHeader('content-type', 'application/json');
    if (!person) {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    res.end(JSON.stringify(shape(url.pathname, person)));
    return;
  }
  service.requestHandler(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`oauth provider on ${issuer.url}`));
