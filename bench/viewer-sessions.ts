// The viewing sessions the cluster benchmarks replay: drawn once from a seeded Zipf popularity, so
// every strategy or tier layout sees the same requests in the same order.
import { seededRandom, zipfSampler } from '../infra/testing/zipf.js';
import type { SyntheticAsset } from './synthetic-catalog.js';

export interface ViewerSession {
  /** A viewing is one viewer: its own client address, which the balancer keys sessions on. */
  readonly address: string;
  readonly asset: SyntheticAsset;
  /** Watches segments 0..length-1 in order, like a player. */
  readonly length: number;
}

/** 127.1.0.1, 127.1.0.2, …: outside the shipped location table, so every edge is one group. */
function viewerAddress(index: number): string {
  const host = index % 254;
  const subnet = Math.floor(index / 254);
  return `127.${1 + Math.floor(subnet / 256)}.${subnet % 256}.${host + 1}`;
}

/** The whole run's viewing sessions, drawn once so every strategy replays the same requests. */
export function planSessions(assets: readonly SyntheticAsset[], rendition: string, requests: number, zipf: number, seed: number): ViewerSession[] {
  const random = seededRandom(seed);
  const pickAsset = zipfSampler(assets.length, zipf, random);
  const sessions: ViewerSession[] = [];
  let planned = 0;
  while (planned < requests) {
    const asset = assets[pickAsset()]!;
    const available = asset.segments.get(rendition)!.length;
    const length = Math.min(requests - planned, 1 + Math.floor(random() * available));
    sessions.push({ address: viewerAddress(sessions.length), asset, length });
    planned += length;
  }
  return sessions;
}

export async function drain(body: AsyncIterable<Buffer>): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.length;
  return bytes;
}

