import { runLoad, type LoadRequest, type LoadResult } from './http-load.js';
import { mainThreadCpuSeconds, type ServiceProcess } from './service-process.js';

export interface CpuLoadResult extends LoadResult {
  /** CPU time of the whole service process per answered request (all threads: the token's crypto included), ms. */
  readonly cpuMsPerRequest: number;
  /** Of that, the main thread's (the event loop: HTTP, JSON, JWT, audit, logging), ms. */
  readonly mainThreadMsPerRequest: number;
}

/**
 * Runs the load and reads the service's CPU time around it. CPU per request hardly depends on what else runs on the
 * machine, unlike requests per second, so it is the figure to compare changes by on a busy machine.
 */
export async function runLoadWithCpu(service: ServiceProcess, request: LoadRequest, connections: number, seconds: number): Promise<CpuLoadResult> {
  const cpuBefore = service.cpuSeconds();
  const mainBefore = mainThreadCpuSeconds(service.pid);
  const result = await runLoad(request, connections, seconds);
  const answered = Math.max(1, result.requests);
  return {
    ...result,
    cpuMsPerRequest: ((service.cpuSeconds() - cpuBefore) * 1000) / answered,
    mainThreadMsPerRequest: ((mainThreadCpuSeconds(service.pid) - mainBefore) * 1000) / answered,
  };
}
