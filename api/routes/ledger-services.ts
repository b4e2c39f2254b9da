import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { ChannelCallbackVerifier } from '../../domain/ports/channel-callback.port';
import type { TransferProcess } from '../../domain/transfer/transfer.process';

/** What the resource routes run commands through; built by the composition root. */
export type LedgerServices = {
  runtime: ActorRuntime;
  transfers: TransferProcess;
  channelVerifiers: readonly ChannelCallbackVerifier[];
  /** Default time a payment stays payable. */
  paymentTtlMs: number;
  nowMs: () => number;
};

/** Positions are bigints: JSON carries them as decimal strings. */
export const positionJson = (position: bigint | null): string | null =>
  position === null ? null : position.toString();
