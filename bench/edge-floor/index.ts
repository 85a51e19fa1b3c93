/**
 * A Worker that passes each request on to `ORIGIN_URL` as it came (the bench signs it as the
 * edge would), and answers its own `/healthz`: the least a Worker in front of the origin can
 * do. Beside the edge in the same dev runtime, what it adds is the runtime's share, and what
 * the edge adds beyond it is the edge's own code.
 */
export default {
  async fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ status: 'ok', service: 'edge-floor' });
    const headers = new Headers(request.headers);
    headers.delete('host');
    return fetch(`${env.ORIGIN_URL}${url.pathname}${url.search}`, { headers });
  },
};
