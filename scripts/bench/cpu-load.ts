import { runLoad, type LoadRequest, type LoadResult } from './http-load.js';
import { mainThreadCpuSeconds, processCpuSeconds, type ServiceProcess } from './service-process.js';

export interface CpuLoadResult extends LoadResult {
  /** CPU time of the whole service process per answered request (all threads: the token's crypto included), ms. */
  readonly cpuMsPerRequest: number;
  /** Of that, the main thread's (the event loop: HTTP, JSON, JWT, audit, logging), ms. */
  readonly mainThreadMsPerRequest: number;
  /** CPU time of the load generator (autocannon, in this process) per answered request, ms: taken from the same cores. */
  readonly loadGeneratorMsPerRequest: number;
}

/**
 * Runs the load and reads the service's CPU time around it. CPU per request hardly depends on what else runs on the
 * machine, unlike requests per second, so it is the figure to compare changes by on a busy machine.
 */
export async function runLoadWithCpu(service: Pick<ServiceProcess, 'pid'>, request: LoadRequest, connections: number, seconds: number): Promise<CpuLoadResult> {
  const cpuBefore = processCpuSeconds(service.pid);
  const mainBefore = mainThreadCpuSeconds(service.pid);
  const generatorBefore = process.cpuUsage();
  const result = await runLoad(request, connections, seconds);
  const generator = process.cpuUsage(generatorBefore);
  const answered = Math.max(1, result.requests);
  return {
    ...result,
    cpuMsPerRequest: ((processCpuSeconds(service.pid) - cpuBefore) * 1000) / answered,
    mainThreadMsPerRequest: ((mainThreadCpuSeconds(service.pid) - mainBefore) * 1000) / answered,
    loadGeneratorMsPerRequest: (generator.user + generator.system) / 1000 / answered,
  };
}
