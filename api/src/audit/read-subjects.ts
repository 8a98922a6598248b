import type { Logger } from 'pino';
import type { LedgerClient } from '@gigledger/gateway';

/** A record a read asked for by its id, as far as its arguments tell. */
export type ReadTarget =
  | { readonly kind: 'agreement'; readonly id: string }
  | { readonly kind: 'credential'; readonly id: string }
  | { readonly kind: 'work'; readonly id: string }
  | { readonly kind: 'dataset'; readonly id: string }
  | { readonly kind: 'licenceGrant'; readonly id: string }
  | { readonly kind: 'licenceOffer'; readonly id: string };

/** What a read was about before anyone answered it: organisations it named and records it asked for. */
export interface ReadSubjects {
  readonly organisations: readonly string[];
  readonly targets: readonly ReadTarget[];
}

const noSubjects: ReadSubjects = { organisations: [], targets: [] };

// Argument names (REST query parameters, GraphQL arguments and input fields) that hold a
// record id, and the record they name.
const idArguments: Readonly<Record<string, ReadTarget['kind']>> = {
  agreementId: 'agreement',
  credentialId: 'credential',
  workId: 'work',
  datasetId: 'dataset',
  recordId: 'dataset',
  offerId: 'licenceOffer',
  licenceGrantId: 'licenceGrant',
};

// Argument names that name an organisation outright (a filter's organisation, a party's MSP id).
const organisationArgument = /^(mspId|organi[sz]ations?|\w+Msp(Id)?)$/;

// REST paths whose first captured segment is a record id, or a party's MSP id, after `/v1`.
const pathPatterns: readonly [RegExp, ReadTarget['kind'] | 'organisation'][] = [
  [/^\/agreements\/([^/]+)/, 'agreement'],
  [/^\/proofs\/records\/agreement\/([^/]+)/, 'agreement'],
  [/^\/credentials\/(?!verify$|vc$)([^/]+)/, 'credential'],
  [/^\/(?:ip|licensing)\/works\/([^/]+)/, 'work'],
  [/^\/licensing\/grants\/([^/]+)/, 'licenceGrant'],
  [/^\/licensing\/offers\/([^/]+)/, 'licenceOffer'],
  [/^\/provenance\/(?:datasets|records)\/([^/]+)/, 'dataset'],
  [/^\/(?:reputation|issuers|ip\/owners)\/([^/]+)\//, 'organisation'],
];

const maxWalk = 1_000;

function collect(value: unknown, into: { organisations: Set<string>; targets: Map<string, ReadTarget> }): void {
  let visited = 0;
  const walk = (node: unknown, key?: string): void => {
    if (visited++ > maxWalk || node === null || node === undefined) return;
    if (typeof node === 'string') {
      if (key === undefined) return;
      const kind = idArguments[key];
      if (kind !== undefined) into.targets.set(`${kind}:${node}`, { kind, id: node });
      else if (organisationArgument.test(key)) into.organisations.add(node);
      return;
    }
    if (Array.isArray(node)) {
      for (const item of node) walk(item, key);
      return;
    }
    if (typeof node === 'object') for (const [name, child] of Object.entries(node)) walk(child, name);
  };
  walk(value);
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is no id the chaincode knows either; keep it as sent.
    return segment;
  }
}

/**
 * The organisations and records a read names in its path and arguments (REST query
 * parameters; GraphQL arguments with their variables), before any answer: what the read
 * log records when the answer itself names nobody, a refusal or an empty list.
 */
export function subjectsOfRead(read: { path?: string; arguments?: unknown }): ReadSubjects {
  const found = { organisations: new Set<string>(), targets: new Map<string, ReadTarget>() };
  if (read.path !== undefined) {
    const path = read.path.replace(/^\/v1(?=\/)/, '');
    for (const [pattern, kind] of pathPatterns) {
      const segment = pattern.exec(path)?.[1];
      if (segment === undefined) continue;
      const id = decoded(segment);
      if (kind === 'organisation') found.organisations.add(id);
      else found.targets.set(`${kind}:${id}`, { kind, id });
    }
  }
  collect(read.arguments, found);
  if (found.organisations.size === 0 && found.targets.size === 0) return noSubjects;
  return { organisations: [...found.organisations], targets: [...found.targets.values()] };
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];

/**
 * Looks up the organisations each record concerns through the chaincode, under the API
 * server's own identity (its organisation's operator, which may read every agreement,
 * credential, work, dataset record and licence): the same organisations whose grants the
 * chaincode's check asks for, so the audited organisation sees the reads about its
 * records that were refused. A record the server cannot read names nobody.
 */
export class ReadSubjectResolver {
  readonly #ledger: LedgerClient;

  constructor(ledger: LedgerClient) {
    this.#ledger = ledger;
  }

  /** The organisations the read named and those its records concern, sorted; never throws. */
  async organisationsOf(subjects: ReadSubjects, log: Logger): Promise<string[]> {
    const found = await Promise.all(
      subjects.targets.map((target) =>
        this.#organisationsOfTarget(target).catch((error: unknown) => {
          log.debug({ err: error, target }, 'the read log could not tell whom a record concerns');
          return [] as string[];
        }),
      ),
    );
    return unique([...subjects.organisations, ...found.flat()]).sort();
  }

  async #organisationsOfTarget(target: ReadTarget): Promise<string[]> {
    switch (target.kind) {
      case 'agreement': {
        const { agreement } = await this.#ledger.agreements.getAgreement({ agreementId: target.id });
        return [agreement.client.mspId, agreement.freelancer.mspId];
      }
      case 'credential': {
        const credential = await this.#ledger.credentials.getCredential({ credentialId: target.id });
        return [credential.subject.mspId, credential.issuer.mspId];
      }
      case 'work': {
        const work = await this.#ledger.ip.getWork({ workId: target.id });
        return work.owners.map((owner) => owner.party.mspId);
      }
      case 'dataset': {
        const record = await this.#ledger.provenance.getRecord({ recordId: target.id });
        return [record.controller.mspId];
      }
      case 'licenceGrant': {
        const grant = await this.#ledger.licensing.getGrant({ grantId: target.id });
        const work = await this.#ledger.ip.getWork({ workId: grant.workId });
        return [grant.licensee.mspId, ...work.owners.map((owner) => owner.party.mspId)];
      }
      case 'licenceOffer': {
        const offer = await this.#ledger.licensing.getOffer({ offerId: target.id });
        return [...offer.owners.map((owner) => owner.party.mspId), ...(offer.licensee ? [offer.licensee.mspId] : [])];
      }
    }
  }
}
