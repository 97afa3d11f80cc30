/**
 * What content analysis found inside a message, as plain data for the pure rules (src/core/rules/content.ts).
 * The analysers that fill these records live at the edge (src/content); every list here is bounded there.
 * @module
 */
import type { EvidenceRef } from './finding.js';
import type { Observed } from './observed.js';

/** One member of an archive, listed from its central directory (never extracted). */
export interface ArchiveEntryFact {
  name: string;
  /** Uncompressed size claimed by the archive. */
  size: number;
  compressedSize: number;
  encrypted: boolean;
  /** The name is absolute or climbs out with `..` ("zip slip"). */
  unsafePath?: true;
}

export interface ArchiveFacts {
  format: 'zip';
  /** Entries the central directory declares (may exceed `entries.length`). */
  entryCount: number;
  /** The first entries, bounded. */
  entries: ArchiveEntryFact[];
  encryptedEntries: number;
  /** Entries with an absolute or `..` name (listing continues past them). */
  unsafeEntries?: number;
  /** Sum of the declared uncompressed sizes. */
  totalUncompressed: number;
  /** Largest uncompressed / compressed ratio of one entry. */
  maxRatio: number;
  /** Why the archive looks like a decompression bomb, or `null`. */
  bomb: string | null;
  /** The listing stopped early (entry limit) or failed part way. */
  truncated: boolean;
  /** Why the archive could not be listed, or `null`. */
  error: string | null;
}

export interface PdfFacts {
  pages: number;
  pagesScanned: number;
  /** Characters of extractable text on the scanned pages. */
  textChars: number;
  /** Images painted on the scanned pages. */
  images: number;
  /** Link annotations with a URL. */
  links: number;
  /** 2-D codes decoded from page images. */
  codes: number;
  /** The scan stopped at a page or time budget: what was left out. */
  budget: string | null;
  /** The PDF is password protected (content not readable). */
  encrypted: boolean;
  /** Why the PDF could not be read, or `null`. */
  error: string | null;
}

export interface HtmlFacts {
  /** A form with a password field. */
  passwordField: boolean;
  /** Where a form posts (bounded), or `null`. */
  formAction: string | null;
  /** Script that navigates the page (location.href / location.replace / window.open). */
  scriptRedirect: boolean;
  /** `<meta http-equiv="refresh">`. */
  metaRefresh: boolean;
  /** Script that decodes an embedded payload (atob / unescape / fromCharCode). */
  decodesPayload: boolean;
}

export interface ImageFacts {
  format: string;
  width: number;
  height: number;
}

export interface AttachmentInspection {
  /** Where the file sat when it was not a top-level MIME part: `winmail.dat`, `forwarded.eml`, ... */
  container: string | null;
  archive?: ArchiveFacts;
  pdf?: PdfFacts;
  html?: HtmlFacts;
  image?: ImageFacts;
  /** Why the analyser could not look inside (too large, unsupported format, decoder error), or `null`. */
  skipped: string | null;
}

/** A part of the content analysis that was cut short, said plainly so no one mistakes silence for "clean". */
export interface ContentGap {
  what: string;
  ref: EvidenceRef;
  /**
   * The finding a gap raises when it is more than a plain limit (DS419): the sandbox's deadline (DS420), its
   * memory limit or a crash (DS421), a work budget on decoding (DS422), a decompression bomb (DS423).
   */
  code?: 'DS420' | 'DS421' | 'DS422' | 'DS423';
}

export interface ContentEvidence {
  /** The readable body text (plain part, or the HTML part reduced to text), bounded. */
  bodyText: Observed<string> | null;
  gaps: ContentGap[];
}
