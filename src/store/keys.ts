/**
 * Moved to core/delivery-key.ts (pure: the delivery key is the core's vocabulary, not the store's). Kept as a
 * re-export while parallel branches still import it from here; import from core/delivery-key.js.
 * @deprecated
 * @module
 */
export * from '../core/delivery-key.js';
