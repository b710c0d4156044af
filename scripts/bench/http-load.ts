import autocannon from 'autocannon';

export interface LoadResult {
  readonly connections: number;
  /** Responses received in the run. */
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

export interface LoadRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Keeps `connections` requests in flight for `seconds` (keep-alive, as Office does) and reports rate and latency. */
export async function runLoad(request: LoadRequest, connections: number, seconds: number): Promise<LoadResult> {
  const result = await autocannon({
    url: request.url,
    method: request.method,
    headers: request.headers ?? {},
    ...(request.body !== undefined ? { body: request.body } : {}),
    connections,
    pipelining: 1,
    duration: seconds,
  });
  return {
    connections,
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
