// Calls to the query server's API, relative to the page (served at <server>/ui/), with the bearer
// token when the page has one. A 401 asks for the token (once, however many calls wait) and
// tries again; any other failure becomes an ApiError that says what failed and why.

const TOKEN_KEY = 'sluice-console-token';

let askForToken;
let asking;

/** Sets how the page asks for a token: `(reason) => Promise` that settles once one was given. */
export function onTokenNeeded(ask) {
  askForToken = ask;
}

export function saveToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** A failed call: `status` 0 when no answer came. */
export class ApiError extends Error {
  constructor(request, status, code, message) {
    super(message);
    this.request = request;
    this.status = status;
    this.code = code;
  }

  /** One line for the page: the request, the status and code, the server's message. */
  describe() {
    const status = this.status === 0 ? 'no answer' : `${this.status} ${this.code}`;
    return `${this.request} failed (${status}): ${this.message}`;
  }
}

function urlOf(path) {
  return new URL(`../${path}`, location.href);
}

async function errorOf(request, response) {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body.message === 'string') return new ApiError(request, response.status, body.error ?? 'error', body.message);
  } catch {
    // Not JSON: the text itself says what happened.
  }
  return new ApiError(request, response.status, response.statusText || 'error', text.slice(0, 300) || 'The server gave no reason.');
}

async function send(path, accept, body) {
  const url = urlOf(path);
  const method = body === undefined ? 'GET' : 'POST';
  const request = `${method} ${decodeURI(url.pathname)}${url.search}`;
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(url, { method, headers, cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      throw new ApiError(request, 0, 'unreachable', 'The server did not answer: it may have stopped, or the network is down.');
    }
    if (response.ok) return response;
    const error = await errorOf(request, response);
    if (response.status !== 401 || !askForToken) throw error;
    asking ??= askForToken(token ? `The server refused the token: ${error.message}` : 'This server needs its bearer token.').finally(() => (asking = undefined));
    await asking;
  }
}

/** GETs an API path (`v1/metadata`) and reads its JSON answer. */
export async function getJson(path) {
  return (await send(path, 'application/json')).json();
}

/** POSTs `body` as JSON to an API path (`v1/dead-letters/replay`) and reads its JSON answer. */
export async function postJson(path, body) {
  return (await send(path, 'application/json', body)).json();
}

/** GETs an API path and reads its text (`metrics`). */
export async function getText(path) {
  return (await send(path, 'text/plain')).text();
}
