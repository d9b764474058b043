//! What the words of a search match, read segment by segment straight from tantivy's posting lists.
//!
//! Every word of `q` must match a word of the name or of the rest (description, SKU, category): exactly,
//! within the typo limit, or — the last word — as a prefix. For each word and field the documents it matches
//! become one set of bits: the exact term's postings, then those of every term of the segment's dictionary
//! that its typo automaton accepts or (the last word) that starts with it. A document matches when it is in
//! the name's or the rest's set of every word; its name holds every word when it is in the name's set of
//! every word. Only the documents that match are then scored.
//!
//! The score is BM25 over the exact terms only (tantivy's own, with the statistics of the whole index; the
//! name's weighs double): typo and prefix matches add nothing, so that a misspelling never outranks the
//! word. Above it come two strict tiers, constants far above any BM25 score: the exact SKU, else a name
//! holding every word.
//!
//! Tantivy's boolean queries would give the same matches and scores, with a scorer per clause: an exact, a
//! typo and a prefix clause per word and field, and the name's again for the tier; and they score every
//! document of a common word even where a rarer word rules it out. That was the cost of a search
//! (docs/performance.md); here every posting list is read once, into bits.

use std::sync::Arc;

use tantivy::postings::TermInfo;
use tantivy::query::{Bm25Weight, DfaWrapper, FuzzyTermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, InvertedIndexReader, Score, Searcher, SegmentReader, Term};

use super::Fields;
use super::query::{SearchQuery, typo_limit};

/// Added to the score of a product whose SKU is the query.
const SKU_TIER: f32 = 20_000.0;
/// Added to the score of a product whose name holds every word.
const NAME_TIER: f32 = 10_000.0;
/// Exact words in the name weigh more than elsewhere.
const NAME_BOOST: f32 = 2.0;

/// A segment's table row by document (`NO_ROW` for none): read once from the `row` column per segment.
pub(crate) type SegmentRows = Arc<[u32]>;
const NO_ROW: u32 = u32::MAX;

/// The table rows of a segment's documents.
pub(crate) fn segment_rows(segment: &SegmentReader) -> tantivy::Result<SegmentRows> {
    let row_of = segment.fast_fields().u64("row")?;
    Ok((0..segment.max_doc())
        .map(|doc| row_of.first(doc).map_or(NO_ROW, |row| row as u32))
        .collect())
}

/// The rows of the products matching every word of `query`, with their scores when `scoring` (else 0).
/// `rows` holds each segment's [`segment_rows`], in the searcher's order.
pub(crate) fn matching_rows(
    searcher: &Searcher,
    rows_of: &[SegmentRows],
    fields: &Fields,
    query: &SearchQuery,
    scoring: bool,
) -> tantivy::Result<Vec<(u32, Score)>> {
    let statistics = scoring.then_some(searcher);
    let count = query.words().len();
    let words = query
        .words()
        .iter()
        .enumerate()
        .map(|(n, text)| Word::new(text, n + 1 == count, fields, statistics))
        .collect::<tantivy::Result<Vec<_>>>()?;
    // The SKU only raises a product's tier: it matters for relevance alone.
    let sku = query
        .whole()
        .filter(|_| scoring)
        .map(|whole| Term::from_field_text(fields.sku, whole));
    let mut rows = Vec::new();
    for (segment, rows_of) in searcher.segment_readers().iter().zip(rows_of) {
        Segment::new(segment, scoring).collect(fields, &words, sku.as_ref(), rows_of, &mut rows)?;
    }
    Ok(rows)
}

/// One word of the query, with what is the same in every segment.
struct Word<'q> {
    text: &'q str,
    /// When scoring, the BM25 weights of the exact term in the name (boosted) and in the rest, with the
    /// statistics of the whole index: tantivy's own `TermQuery` weights, so the same scores.
    exact: Option<[Bm25Weight; 2]>,
    /// The automaton of the words within the typo limit, if any are allowed: built once per query.
    typos: Option<DfaWrapper>,
    prefix: bool,
}

impl<'q> Word<'q> {
    fn new(
        text: &'q str,
        last: bool,
        f: &Fields,
        statistics: Option<&Searcher>,
    ) -> tantivy::Result<Self> {
        let exact = |searcher: &Searcher, field, boost| {
            Bm25Weight::for_terms(searcher, &[Term::from_field_text(field, text)])
                .map(|weight| weight.boost_by(boost))
        };
        let exact = match statistics {
            Some(searcher) => Some([
                exact(searcher, f.name, NAME_BOOST)?,
                exact(searcher, f.rest, 1.0)?,
            ]),
            None => None,
        };
        let distance = typo_limit(text);
        let typos = if distance > 0 {
            // The automaton depends on the text only: the field of the term is not read.
            Some(
                FuzzyTermQuery::new(Term::from_field_text(f.name, text), distance, true)
                    .automaton()?,
            )
        } else {
            None
        };
        Ok(Self {
            text,
            exact,
            typos,
            prefix: last,
        })
    }

    /// The first term after every term that starts with this word: the end of its prefix range.
    fn prefix_end(&self) -> Option<Vec<u8>> {
        let mut end = self.text.as_bytes().to_vec();
        while let Some(last) = end.pop() {
            if last < u8::MAX {
                end.push(last + 1);
                return Some(end);
            }
        }
        None
    }
}

/// One segment being searched.
struct Segment<'s> {
    reader: &'s SegmentReader,
    scoring: bool,
}

impl<'s> Segment<'s> {
    fn new(reader: &'s SegmentReader, scoring: bool) -> Self {
        Self { reader, scoring }
    }

    /// Adds the rows of this segment's documents that match every word, with their scores, to `rows`. The
    /// matches come first, from the posting lists as bits; only the documents that match every word are
    /// then scored, so that a common word costs its BM25 only where the rarer ones match too.
    fn collect(
        self,
        f: &Fields,
        words: &[Word],
        sku: Option<&Term>,
        rows_of: &[u32],
        rows: &mut Vec<(u32, Score)>,
    ) -> tantivy::Result<()> {
        let mut everywhere: Option<Docs> = None;
        let mut in_name: Option<Docs> = None;
        for word in words {
            let name = self.docs_of(word, f.name)?;
            let mut anywhere = self.docs_of(word, f.rest)?;
            anywhere.union_with(&name);
            everywhere = Some(Docs::intersected(everywhere, anywhere));
            in_name = Some(Docs::intersected(in_name, name));
        }
        let (Some(everywhere), Some(in_name)) = (everywhere, in_name) else {
            return Ok(());
        };
        let docs: Vec<DocId> = everywhere
            .iter()
            .filter(|doc| !self.reader.is_deleted(*doc))
            .collect();
        let mut scores = vec![0.0; if self.scoring { docs.len() } else { 0 }];
        if self.scoring {
            for word in words {
                if let Some([name, rest]) = &word.exact {
                    self.add_scores(f.name, word.text, name, &docs, &mut scores)?;
                    self.add_scores(f.rest, word.text, rest, &docs, &mut scores)?;
                }
            }
            let skus = match sku {
                Some(term) => self.docs_of_term(term)?,
                None => Docs::empty(self.reader.max_doc()),
            };
            for (doc, score) in docs.iter().zip(&mut scores) {
                if skus.contains(*doc) {
                    *score += SKU_TIER;
                } else if in_name.contains(*doc) {
                    *score += NAME_TIER;
                }
            }
        }
        for (n, doc) in docs.iter().enumerate() {
            let row = rows_of[*doc as usize];
            if row != NO_ROW {
                rows.push((row, scores.get(n).copied().unwrap_or(0.0)));
            }
        }
        Ok(())
    }

    /// The documents in which `word` matches a word of `field`: its exact term's postings, then those of
    /// every other term that starts with it (the last word) or that its typo automaton finds in the
    /// segment's dictionary.
    fn docs_of(&self, word: &Word, field: Field) -> tantivy::Result<Docs> {
        let mut docs = self.docs_of_term(&Term::from_field_text(field, word.text))?;
        let index = self.reader.inverted_index(field)?;
        if word.prefix {
            // The terms that start with the word are a range of the sorted dictionary: no automaton needed.
            let mut range = index.terms().range().ge(word.text.as_bytes());
            if let Some(end) = word.prefix_end() {
                range = range.lt(end);
            }
            let mut terms = range.into_stream()?;
            while terms.advance() {
                if terms.key() != word.text.as_bytes() {
                    add_postings(&index, terms.value(), &mut docs)?;
                }
            }
        }
        if let Some(typos) = &word.typos {
            let mut terms = index.terms().search(typos).into_stream()?;
            while terms.advance() {
                if terms.key() != word.text.as_bytes() {
                    add_postings(&index, terms.value(), &mut docs)?;
                }
            }
        }
        Ok(docs)
    }

    /// The documents that hold one term.
    fn docs_of_term(&self, term: &Term) -> tantivy::Result<Docs> {
        let mut docs = Docs::empty(self.reader.max_doc());
        let index = self.reader.inverted_index(term.field())?;
        if let Some(info) = index.get_term_info(term)? {
            add_postings(&index, &info, &mut docs)?;
        }
        Ok(docs)
    }

    /// Adds the BM25 of the exact term `text` in `field` to the scores of those of `docs` (ascending) that
    /// hold it: one pass over its block postings with their frequencies, beside `docs`, each score from
    /// the document's field norm as tantivy's term scorer computes it.
    fn add_scores(
        &self,
        field: Field,
        text: &str,
        weight: &Bm25Weight,
        docs: &[DocId],
        scores: &mut [Score],
    ) -> tantivy::Result<()> {
        let index = self.reader.inverted_index(field)?;
        let Some(info) = index.get_term_info(&Term::from_field_text(field, text))? else {
            return Ok(());
        };
        let norms = self.reader.get_fieldnorms_reader(field)?;
        let mut postings =
            index.read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?;
        let mut next = 0;
        while next < docs.len() && !postings.docs().is_empty() {
            for (&doc, &freq) in postings.docs().iter().zip(postings.freqs()) {
                while next < docs.len() && docs[next] < doc {
                    next += 1;
                }
                if next == docs.len() {
                    break;
                }
                if docs[next] == doc {
                    scores[next] += weight.score(norms.fieldnorm_id(doc), freq);
                    next += 1;
                }
            }
            postings.advance();
        }
        Ok(())
    }
}

/// Adds the documents of one term's postings to `docs`.
fn add_postings(
    index: &InvertedIndexReader,
    info: &TermInfo,
    docs: &mut Docs,
) -> tantivy::Result<()> {
    let mut postings = index.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    while !postings.docs().is_empty() {
        for &doc in postings.docs() {
            docs.insert(doc);
        }
        postings.advance();
    }
    Ok(())
}

/// A set of a segment's documents, as bits.
#[derive(Debug, Clone, PartialEq)]
struct Docs {
    words: Vec<u64>,
}

impl Docs {
    fn empty(max_doc: DocId) -> Self {
        Self {
            words: vec![0; (max_doc as usize).div_ceil(64)],
        }
    }

    fn insert(&mut self, doc: DocId) {
        self.words[doc as usize / 64] |= 1 << (doc % 64);
    }

    fn contains(&self, doc: DocId) -> bool {
        self.words[doc as usize / 64] & (1 << (doc % 64)) != 0
    }

    fn union_with(&mut self, other: &Docs) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word |= theirs;
        }
    }

    /// `so_far ∩ next`, where no set so far means every document.
    fn intersected(so_far: Option<Docs>, next: Docs) -> Docs {
        match so_far {
            None => next,
            Some(mut docs) => {
                for (word, theirs) in docs.words.iter_mut().zip(&next.words) {
                    *word &= theirs;
                }
                docs
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = DocId> + '_ {
        self.words.iter().enumerate().flat_map(|(n, &word)| {
            let base = n as DocId * 64;
            std::iter::successors((word != 0).then_some(word), |w| {
                let rest = w & (w - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |w| base + w.trailing_zeros())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_list_the_documents_it_holds_in_order_across_words() {
        let mut docs = Docs::empty(200);
        for doc in [0, 5, 63, 64, 130, 199] {
            docs.insert(doc);
        }
        assert_eq!(docs.iter().collect::<Vec<_>>(), [0, 5, 63, 64, 130, 199]);
        assert!(docs.contains(130) && !docs.contains(131));
    }

    #[test]
    fn it_should_intersect_with_every_document_when_nothing_came_before() {
        let mut a = Docs::empty(100);
        a.insert(3);
        a.insert(70);
        let mut b = Docs::empty(100);
        b.insert(70);
        b.insert(99);
        let first = Docs::intersected(None, a.clone());
        assert_eq!(first, a);
        assert_eq!(
            Docs::intersected(Some(a.clone()), b.clone())
                .iter()
                .collect::<Vec<_>>(),
            [70]
        );
        a.union_with(&b);
        assert_eq!(a.iter().collect::<Vec<_>>(), [3, 70, 99]);
    }
}
