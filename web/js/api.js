// The REST API client: bearer token, JSON errors, upload with progress.

const BASE = '/api/v1';
const TOKEN_KEY = 'runnel.token';

let token = null;
try { token = sessionStorage.getItem(TOKEN_KEY); } catch { /* storage off */ }

let unauthorized = () => {};

export function onUnauthorized(fn) { unauthorized = fn; }
export function hasToken() { return !!token; }

export function setToken(t) {
  token = t || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage off: the token lives in memory only */ }
}

// An answer that is not 2xx, or no answer at all (status 0).
const STATUS_WORDS = {400: 'the request was refused as malformed', 401: 'the access token was refused',
  403: 'this is not allowed', 404: 'not found', 405: 'this runneld does not support that',
  409: 'that does not fit the job\'s state', 413: 'too large', 415: 'the wrong kind of content',
  422: 'the request does not add up', 429: 'too many jobs are waiting; try again shortly',
  500: 'runneld failed with an internal error', 502: 'a proxy in front of runneld got no good answer',
  503: 'runneld is unavailable (shutting down, or its storage is)', 504: 'a proxy in front of runneld timed out'};

// An error in words for people, whatever the answer held.
export function statusWords(status) {
  return STATUS_WORDS[status] || (status >= 500 ? `runneld failed (HTTP ${status})` : `the request was refused (HTTP ${status})`);
}

export class ApiError extends Error {
  constructor(status, err) {
    super(err && err.message ? err.message : statusWords(status));
    this.status = status;
    this.code = (err && err.code) || (status ? 'http_' + status : 'network');
    this.field = (err && err.field) || null;
  }
}

function headers(extra) {
  const hd = Object.assign({}, extra);
  if (token) hd.Authorization = 'Bearer ' + token;
  return hd;
}

async function failure(res) {
  let err = null;
  try { err = (await res.json()).error; } catch { /* not JSON */ }
  return new ApiError(res.status, err);
}

// api('/jobs?limit=50') -> parsed JSON; api(path, {method, body}) sends JSON.
// {raw: true} gives the Response itself (for streams); 401 also calls the
// unauthorized hook unless {quiet401: true}.
export async function api(path, opts = {}) {
  const init = {method: opts.method || 'GET', headers: headers(opts.headers),
    signal: opts.signal, cache: 'no-store'};
  if (opts.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, {code: 'network', message: 'runneld cannot be reached'});
  }
  if (!res.ok) {
    const e = await failure(res);
    if (res.status === 401 && !opts.quiet401) unauthorized(e);
    throw e;
  }
  if (opts.raw) return res;
  if (res.status === 204 || init.method === 'HEAD') return null;
  return res.json();
}

export function apiUrl(path) { return BASE + path; }

// POST /api/v1/uploads as multipart/form-data with XMLHttpRequest, for
// real upload progress and abort().  onProgress(loaded, total).
// Returns {promise, abort}; the promise gives the job or throws ApiError
// (code "aborted" after abort()).
export function upload(form, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', BASE + '/uploads');
    if (token) xhr.setRequestHeader('Authorization', 'Bearer ' + token);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.upload.onload = () => onProgress(-1, 0); // all sent: the server is storing it
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* empty or not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const e = new ApiError(xhr.status, body && body.error);
      if (xhr.status === 401) unauthorized(e);
      reject(e);
    };
    xhr.onerror = () => reject(new ApiError(0, {code: 'network', message: 'the upload failed: runneld cannot be reached'}));
    xhr.onabort = () => reject(new ApiError(0, {code: 'aborted', message: 'upload canceled'}));
    xhr.send(form);
  });
  return {promise, abort: () => xhr.abort()};
}
