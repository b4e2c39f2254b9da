import type { NodeRejection } from '../domain/node/node.model';

/** Errors of the node routes (codes ending 70-79), merged into errorCodes. */
type Spec = { readonly status: 404 | 409 | 422; readonly code: number; readonly msg: string };

export const nodeErrorCodes = {
  node_not_found: { status: 404, code: 40470, msg: 'no such node' },
  node_exists: { status: 409, code: 40970, msg: 'a node with this nodeId exists with other terms' },
  node_retired: { status: 409, code: 40971, msg: 'the node is retired' },
  node_client_taken: {
    status: 409,
    code: 40972,
    msg: 'this client already speaks for another node',
  },
  node_client_invalid: {
    status: 422,
    code: 42270,
    msg: 'clientId must name an unrevoked client with the node role',
  },
} as const satisfies Record<NodeRejection | 'node_client_invalid', Spec>;
