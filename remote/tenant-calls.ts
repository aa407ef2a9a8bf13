import { Metadata, status as Status, type ServerUnaryCall, type StatusObject } from '@grpc/grpc-js';
import { ConfigError, TbuildError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { TenantInfo } from './server-info.js';
import { TenantGate, type TenantLimits } from './tenant-gate.js';
import { TenantIdentities } from './tenant-identity.js';
import { NO_TENANT_SETTINGS, type TenantSettings } from './tenant-settings.js';

/** CallIdentity is the tenant a call comes from, or the status it is refused with. */
export type CallIdentity = { readonly tenant: string } | { readonly refused: StatusObject };

/** TenantCalls identify each call's tenant and admit each tenant's builds within its limits. */
export interface TenantCalls {
  /** requiresToken tells whether a call needs a token (or a client certificate naming a tenant) to get in. */
  readonly requiresToken: boolean;
  readonly gate: TenantGate;
  /** identify tells the call's tenant, or logs and returns why it is refused. */
  identify(call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getAuthContext'>, method: string): Promise<CallIdentity>;
  /** info describes a tenant's load and limits. */
  info(tenant: string): TenantInfo;
}

const refusal = (code: Status, details: string): StatusObject => ({ code, details, metadata: new Metadata() });

/** createTenantCalls reads the tokens file once (a file that cannot be read stops the server from starting). */
export async function createTenantCalls(o: { token: string | undefined; settings: TenantSettings | undefined; logger: Logger }): Promise<TenantCalls> {
  const settings = o.settings ?? NO_TENANT_SETTINGS;
  const identities = new TenantIdentities({ ...(o.token === undefined ? {} : { token: o.token }), settings, logger: o.logger });
  try {
    await identities.load();
  } catch (err) {
    if (err instanceof TbuildError) throw err;
    throw new ConfigError(`Cannot read tokens file "${settings.tokensFile}"`, { cause: err });
  }
  if (settings.tokensFile !== undefined || settings.tenants.size > 0) {
    o.logger.info('tenants', { tables: settings.tenants.size, tokensFile: settings.tokensFile, shareCache: settings.shareCache });
  }
  const limits = (tenant: string): TenantLimits => settings.tenants.get(tenant) ?? {};
  const gate = new TenantGate(limits);
  return {
    requiresToken: identities.requiresToken,
    gate,
    async identify(call, method) {
      const who = await identities.identify(call.metadata, call.getAuthContext()?.sslPeerCertificate);
      if (who.ok) return { tenant: who.tenant };
      const fields = { method, peer: call.getPeer() };
      if (who.reason === 'invalid token') {
        o.logger.warn('call refused: invalid token', fields);
        return { refused: refusal(Status.UNAUTHENTICATED, 'invalid token') };
      }
      o.logger.warn('call refused: the token and the client certificate name different tenants', fields);
      return { refused: refusal(Status.PERMISSION_DENIED, 'the token and the client certificate name different tenants') };
    },
    info(tenant) {
      const { maxBuilds, maxQueued } = limits(tenant);
      return { name: tenant, ...gate.load(tenant), ...(maxBuilds === undefined ? {} : { maxBuilds }), ...(maxQueued === undefined ? {} : { maxQueued }) };
    },
  };
}
