import { runLoad, type LoadRequest, type LoadResult } from './http-load.js';
import { median } from './stats.js';

/**
 * The service and its floor measured in alternating rounds on the same load: the machine's speed moves by up to a
 * factor of two within minutes (docs/benchmarks.md), so two single points taken minutes apart compare two moments of
 * the machine, not two servers. Each round runs both, the first of the pair alternating; the ratios are per round.
 * Each run is preceded by `warmUpSeconds` of the same load, not measured: a server idle during the other's run
 * starts with its threads asleep, which a 3 s window would count against whichever went second.
 */
export interface SideBySide {
  readonly service: LoadResult[];
  readonly floor: LoadResult[];
}

/** `rounds` rounds of `seconds` each for both servers, each run after `warmUpSeconds` of unmeasured load. */
export async function sideBySide(service: LoadRequest, floor: LoadRequest, inFlight: number, rounds: number, seconds: number, warmUpSeconds: number): Promise<SideBySide> {
  const result: SideBySide = { service: [], floor: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? (['service', 'floor'] as const) : (['floor', 'service'] as const);
    for (const which of order) {
      const request = which === 'service' ? service : floor;
      if (warmUpSeconds > 0) await runLoad(request, inFlight, warmUpSeconds);
      result[which].push(await runLoad(request, inFlight, seconds));
    }
  }
  return result;
}

/** Each round's service/floor rate ratio, in round order. */
export function roundRatios(pair: SideBySide): number[] {
  return pair.service.map((s, i) => s.requestsPerSecond / pair.floor[i]!.requestsPerSecond);
}

/** The median of the rounds' service/floor rate ratios. */
export function medianRatio(pair: SideBySide): number {
  return median(roundRatios(pair));
}

/** The median of the service's p99/p50 over the rounds. */
export function medianTailRatio(results: readonly LoadResult[]): number {
  return median(results.map((r) => r.p99 / r.p50));
}

/** The median of the rounds' rates. */
export function medianRate(results: readonly LoadResult[]): number {
  return median(results.map((r) => r.requestsPerSecond));
}

/** Errors and non-2xx answers over every round. */
export function failures(results: readonly LoadResult[]): number {
  return results.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
}
