import { useEffect, useState, type SyntheticEvent } from 'react';
import { useMutation } from 'urql';
import type { IssuerDetails } from '@gigledger/chaincode/model';
import { graphql } from '../gql/index.js';
import type { CredentialType } from '../gql/graphql.js';
import { rest } from '../session/api-client.js';
import { Problem } from '../session/problem.js';
import { FieldRefusals, FormRefusal } from '../session/field-refusals.js';
import { useSession } from '../session/session.js';
import { RevokeForm } from '../revocation/revoke-form.js';
import { DocumentOutput } from './document-output.js';
import { LabelledInput } from '../text-input.js';

const issueCredential = graphql(`
  mutation IssueCredential($input: IssueCredentialInput!) {
    issueCredential(input: $input) {
      transactionId
      blockNumber
      credential {
        credentialId
        type
        status
      }
      claims {
        name
        value
        salt
      }
    }
  }
`);

interface ClaimRow {
  readonly key: number;
  readonly name: string;
  readonly value: string;
}

/** The API's paths of the fields the issuer's form shows, for `claimRows` claims. */
function issueFields(claimRows: number): string[] {
  const claims = Array.from({ length: claimRows }, (_, index) =>
    ['name', 'value'].map((part) => `input.claims.${String(index)}.${part}`),
  );
  return ['input.subject.mspId', 'input.subject.userId', 'input.expirationDate', ...claims.flat()];
}

/**
 * The issuer's form: a subject, one of the types governance accredited this issuer for,
 * the claims, and an optional expiry. The answer carries the claims with their salts,
 * which the issuer hands to the holder.
 */
export function IssuePage() {
  const { session } = useSession();
  const [types, setTypes] = useState<readonly string[] | undefined>(undefined);
  const [typesError, setTypesError] = useState<unknown>(undefined);
  const [mspId, setMspId] = useState('');
  const [userId, setUserId] = useState('');
  const [type, setType] = useState('');
  const [expires, setExpires] = useState('');
  const [rows, setRows] = useState<ClaimRow[]>([{ key: 0, name: '', value: '' }]);
  const [state, issue] = useMutation(issueCredential);

  useEffect(() => {
    if (session === undefined) return;
    const { mspId: ownMsp, userId: own } = session.person;
    rest<IssuerDetails>('GET', `/v1/issuers/${encodeURIComponent(ownMsp)}/${encodeURIComponent(own)}`, session.token)
      .then((details) => {
        const granted = details.issuer.status === 'active' ? details.issuer.credentialTypes : [];
        setTypes(granted);
        setType(granted[0] ?? '');
      })
      .catch(setTypesError);
  }, [session]);

  if (session === undefined) return null;
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    void issue({
      input: {
        subject: { mspId, userId },
        type: type as CredentialType,
        claims: rows.map(({ name, value }) => ({ name, value })),
        ...(expires === '' ? {} : { expirationDate: new Date(expires).toISOString() }),
      },
    });
  };
  // Null beside the error when the issuance was refused.
  const issued = state.data?.issueCredential ?? undefined;
  return (
    <section>
      <h1>Issue a credential</h1>
      <Problem error={typesError} />
      {types !== undefined && types.length === 0 ? (
        <p>Governance has not accredited you for any credential type, so there is nothing you may issue.</p>
      ) : null}
      <FieldRefusals error={state.error} fields={issueFields(rows.length)}>
        <form onSubmit={submit}>
          <fieldset>
            <legend>Subject</legend>
            <LabelledInput
              label="Organisation MSP id"
              name="subjectMspId"
              field="input.subject.mspId"
              required
              value={mspId}
              trim
              onValue={setMspId}
            />
            <LabelledInput
              label="User id"
              name="subjectUserId"
              field="input.subject.userId"
              required
              value={userId}
              trim
              onValue={setUserId}
            />
          </fieldset>
          <label>
            Credential type
            <select
              name="type"
              required
              value={type}
              onChange={(e) => {
                setType(e.target.value);
              }}
            >
              {(types ?? []).map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
          <fieldset>
            <legend>Claims</legend>
            {rows.map((row, index) => (
              <div key={row.key} className="claim-row">
                {(['name', 'value'] as const).map((part) => (
                  <LabelledInput
                    key={part}
                    label={`${part === 'name' ? 'Name' : 'Value'} of claim ${String(index + 1)}`}
                    field={`input.claims.${String(index)}.${part}`}
                    required
                    value={row[part]}
                    onValue={(value) => {
                      setRows(rows.map((other) => (other.key === row.key ? { ...other, [part]: value } : other)));
                    }}
                  />
                ))}
                {rows.length > 1 ? (
                  <button
                    type="button"
                    onClick={() => {
                      setRows(rows.filter((other) => other.key !== row.key));
                    }}
                  >
                    Remove claim {index + 1}
                  </button>
                ) : null}
              </div>
            ))}
            <button
              type="button"
              onClick={() => {
                setRows([...rows, { key: Math.max(...rows.map((row) => row.key)) + 1, name: '', value: '' }]);
              }}
            >
              Add a claim
            </button>
          </fieldset>
          <LabelledInput
            label="Expires (optional)"
            type="datetime-local"
            name="expires"
            field="input.expirationDate"
            value={expires}
            onValue={setExpires}
          />
          <button type="submit" disabled={state.fetching || types === undefined || types.length === 0}>
            Issue credential
          </button>
        </form>
        <FormRefusal />
      </FieldRefusals>
      {issued === undefined ? null : (
        <section aria-labelledby="issued-heading">
          <div role="status">
            <h2 id="issued-heading">
              Issued {issued.credential.type} {issued.credential.credentialId} in block {issued.blockNumber}
            </h2>
          </div>
          <p>The holder reads these claims and salts in their wallet too; the ledger keeps only their hashes.</p>
          <DocumentOutput label="Claims with salts" fileName="claims.json" document={issued.claims} />
        </section>
      )}
      <RevokeForm session={session} suggestedId={issued?.credential.credentialId} />
    </section>
  );
}
