import { readFile } from 'node:fs/promises';
import type { Agent, Dispatcher } from 'undici';
import { ConfigError } from '../base/errors.js';
import { hostConfigFor, type RegistryConfig, type RegistryHostConfig } from './config.js';
import { DEFAULT_REGISTRY } from './reference.js';
import { loadUndici } from './undici.js';

/** DOCKER_HUB_HOST is where `docker.io` names are actually served. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';

/** Endpoint is one host a registry's content can be requested from. */
export interface Endpoint {
  /** `host[:port]` as configured (used in messages and as `ResolvedImage.source`). */
  readonly host: string;
  /** `scheme://host[:port][/prefix]`, to which `/v2/...` is appended. */
  readonly base: string;
  readonly mirror: boolean;
  readonly dispatcher: Dispatcher;
}

/** isLoopbackHost tells whether `host[:port]` names this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostName(hostPort);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function hostName(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colons = hostPort.split(':').length - 1;
  return colons === 1 ? hostPort.slice(0, hostPort.indexOf(':')) : hostPort;
}

/** EndpointResolver turns a registry name into the endpoints to try, in order, owning their connection pools. */
export class EndpointResolver implements AsyncDisposable {
  readonly #config: RegistryConfig;
  /** The pool for plain HTTP and the system's roots, made with the first endpoint that needs it. */
  #defaultAgent: Promise<Agent> | undefined;
  readonly #agents = new Map<string, Promise<Agent>>();

  constructor(config: RegistryConfig) {
    this.#config = config;
  }

  /** endpoints lists the mirrors (for pulls) and then the origin of a registry. */
  async endpoints(registry: string, options: { pull: boolean }): Promise<Endpoint[]> {
    const settings = hostConfigFor(this.#config, registry);
    const out: Endpoint[] = [];
    if (options.pull) {
      for (const mirror of settings.mirrors) out.push(await this.#endpoint(mirror, true));
    }
    const origin = registry === DEFAULT_REGISTRY ? DOCKER_HUB_HOST : registry;
    out.push(await this.#endpoint(origin, false, settings));
    return out;
  }

  async #endpoint(location: string, mirror: boolean, settings?: RegistryHostConfig): Promise<Endpoint> {
    const trimmed = location.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
    const slash = trimmed.indexOf('/');
    const host = slash === -1 ? trimmed : trimmed.slice(0, slash);
    const prefix = slash === -1 ? '' : trimmed.slice(slash);
    const own = settings ?? hostConfigFor(this.#config, host);
    const explicitScheme = /^(https?):\/\//.exec(location)?.[1];
    const plain = explicitScheme !== undefined ? explicitScheme === 'http' : (own.http ?? isLoopbackHost(host));
    const dispatcher = plain ? await this.#plainAgent() : await this.#tlsAgent(own);
    return { host, base: `${plain ? 'http' : 'https'}://${host}${prefix}`, mirror, dispatcher };
  }

  #plainAgent(): Promise<Agent> {
    return (this.#defaultAgent ??= loadUndici().then((undici) => new undici.Agent()));
  }

  #tlsAgent(settings: RegistryHostConfig): Promise<Agent> {
    if (settings.ca.length === 0 && !settings.insecure) return this.#plainAgent();
    const key = JSON.stringify([settings.ca, settings.insecure]);
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      agent = loadTlsAgent(settings);
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /** close drains every connection pool. */
  async close(): Promise<void> {
    const made = this.#defaultAgent === undefined ? [...this.#agents.values()] : [this.#defaultAgent, ...this.#agents.values()];
    const agents = await Promise.allSettled(made);
    const pools: Agent[] = [];
    for (const a of agents) if (a.status === 'fulfilled') pools.push(a.value);
    await Promise.all(pools.map((a) => a.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function loadTlsAgent(settings: RegistryHostConfig): Promise<Agent> {
  const ca: string[] = [];
  for (const file of settings.ca) {
    try {
      ca.push(await readFile(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`Cannot read registry CA certificate "${file}"`, { cause: err });
    }
  }
  const undici = await loadUndici();
  const { rootCertificates } = await import('node:tls');
  // Extra CAs add to, not replace, the system roots.
  return new undici.Agent({
    connect: {
      ...(ca.length > 0 ? { ca: [...rootCertificates, ...ca] } : {}),
      rejectUnauthorized: !settings.insecure,
    },
  });
}
