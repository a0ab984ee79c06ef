// A stubbed fetch that records requests and answers like the collector.

export function stubFetch(respond = () => new Response(JSON.stringify({ trace_id: 'ab'.repeat(16) }), {
  status: 200,
  headers: { 'content-type': 'application/json' },
})) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: init && init.body ? JSON.parse(init.body) : undefined });
    return respond(url, init);
  };
  return { fetch, calls };
}

/** A client's options with a stubbed fetch and recorded errors. */
export function setup(options = {}, respond) {
  const stub = stubFetch(respond);
  const errors = [];
  return {
    ...stub,
    errors,
    options: { apiKey: 'nlw_test', endpoint: 'http://127.0.0.1:4318', fetch: stub.fetch, onError: (e) => errors.push(e), ...options },
  };
}
