/**
 * How much two clocks may disagree, in seconds: the rules that compare a time
 * written by one server node with another node's clock.
 */

/**
 * Forgiven past a token's `exp` (and before its `nbf`): small, because `exp`
 * is what ends an idle session.
 */
export const CLOCK_TOLERANCE = 15;

/**
 * How far apart the clocks of two server nodes may be. A token minted by a node
 * whose clock runs ahead carries an `iat` in the future of the others: one up
 * to this far ahead is accepted (a later one is not a token this cluster made).
 * Deny-list entries also outlive the last token they cover by this much (and
 * the tolerance), so no node sees an entry vanish while a token it covers is
 * still accepted somewhere.
 */
export const MAX_CLOCK_SKEW = 300;
