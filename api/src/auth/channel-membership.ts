import type { ChannelMembers } from '@gigledger/gateway';

/** Which organisations may act on the ledger now. */
export interface OrganisationMembership {
  /**
   * Whether the organisation with this MSP id is a member of the channel. While the
   * channel cannot be read, the last answer stands, or `true` before there was one: the
   * peers refuse a non-member anyway (answered as 403 by the error mapping).
   */
  isMember(mspId: string): Promise<boolean>;
}

/**
 * The channel's membership as its latest configuration block says, read again once the
 * last reading is older than `maxAgeMs` (10 s by default), so the server learns of
 * `network:add-org` and `network:remove-org` without a restart. Concurrent callers share
 * one reading.
 */
export class ChannelMembership implements OrganisationMembership {
  readonly #members: ChannelMembers;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #known: { mspIds: ReadonlySet<string>; at: number } | undefined;
  #reading: Promise<void> | undefined;

  constructor(members: ChannelMembers, options: { maxAgeMs?: number; now?: () => number } = {}) {
    this.#members = members;
    this.#maxAgeMs = options.maxAgeMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async isMember(mspId: string): Promise<boolean> {
    if (this.#known === undefined || this.#now() - this.#known.at >= this.#maxAgeMs) {
      this.#reading ??= this.#read().finally(() => {
        this.#reading = undefined;
      });
      await this.#reading;
    }
    return this.#known === undefined || this.#known.mspIds.has(mspId);
  }

  async #read(): Promise<void> {
    try {
      this.#known = { mspIds: new Set(await this.#members.mspIds()), at: this.#now() };
    } catch {
      // Keep the last answer; the next call tries again.
    }
  }
}
