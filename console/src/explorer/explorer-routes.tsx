import { Route, Switch } from 'wouter';
import { BlockPage } from './block-page.js';
import { ExplorerPage } from './explorer-page.js';
import { TransactionPage } from './transaction-page.js';

/** The explorer's pages (full paths, so that their links stay absolute): the start, a block, a transaction. */
export function ExplorerRoutes() {
  return (
    <Switch>
      <Route path="/explorer">
        <ExplorerPage />
      </Route>
      <Route path="/explorer/blocks/:blockNumber">
        {(params) => <BlockPage blockNumber={decodeURIComponent(params.blockNumber)} />}
      </Route>
      <Route path="/explorer/transactions/:transactionId">
        {(params) => <TransactionPage transactionId={decodeURIComponent(params.transactionId)} />}
      </Route>
    </Switch>
  );
}
