import { useLocation } from 'wouter';
import { IdLookupForm } from '../id-lookup-form.js';

/**
 * Where an arbitrator opens a dispute they were drawn to decide: by the agreement's id,
 * which the dispute's notice names (a panel is drawn from the governed arbitrators when a
 * party opens the dispute). The agreement's page shows the panel and, to its members
 * while the dispute is undecided, the vote.
 */
export function DisputesPage() {
  const [, navigate] = useLocation();
  return (
    <section>
      <h1>Disputes</h1>
      <p>
        Open the agreement a dispute names to read the delivery, the reasons and the votes so far, and to cast your vote
        on how the escrow is split.
      </p>
      <IdLookupForm
        label="Agreement id"
        name="agreementId"
        action="Open agreement"
        onLookup={(agreementId) => {
          navigate(`/agreements/${encodeURIComponent(agreementId)}`);
        }}
      />
    </section>
  );
}
