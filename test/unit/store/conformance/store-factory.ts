import type { Store } from '../../../../origin/store/store.ts';

/**
 * How the conformance suite gets stores of one implementation. Every store it opens is
 * closed, and its database removed, when the test that opened it ends.
 */
export interface StoreFactory {
  /** A store on a fresh, empty database. */
  open(): Promise<Store>;
  /** A second store on the database of `store`: what another origin process would see. */
  reopen(store: Store): Promise<Store>;
}
