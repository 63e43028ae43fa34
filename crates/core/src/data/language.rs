//! The Attention lab's token tasks, generated from a seeded [`Rng`]: the same
//! seed gives the same sentences. Every batch is token ids `[N, L]`, row-major.
//!
//! - [`TokenTask::WhoDidWhat`]: a question token, then a sentence of a tiny
//!   grammar, active (`who? the big dog quickly chased a cat`) or passive
//!   (`who? a cat was chased by the big dog`), padded to [`SENTENCE_LENGTH`].
//!   `who?` asks for the noun that acted, `whom?` for the one acted on. Both
//!   nouns are in every sentence and the words are the same either way
//!   round, so only their *order* says which is which, and the voice says
//!   which way round to read it: an encoder without positional information
//!   sees a bag of words and can do no better than pick one of the two
//!   nouns, 50%.
//! - [`TokenTask::Reverse`] and [`TokenTask::Sort`]: a string of digits; at
//!   every position the answer is the digit at that position of the reversed
//!   (or sorted) string. Both need to know where each digit is.

use crate::rng::Rng;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Nouns: the answers of the who-did-what task, classes 0..10 in this order.
pub const NOUNS: [&str; 10] = [
    "dog", "cat", "bird", "fox", "horse", "mouse", "girl", "boy", "food", "ball",
];
pub const VERBS: [&str; 8] = ["ate", "saw", "chased", "liked", "bit", "found", "pushed", "followed"];
/// The same verbs' participles, for the passive voice (`was eaten by`).
pub const PARTICIPLES: [&str; 8] = [
    "eaten", "seen", "chased", "liked", "bitten", "found", "pushed", "followed",
];
/// The passive voice's own words.
pub const PASSIVE: [&str; 2] = ["was", "by"];
pub const ADJECTIVES: [&str; 8] = ["big", "small", "red", "old", "young", "happy", "lazy", "hungry"];
pub const ADVERBS: [&str; 3] = ["quickly", "slowly", "often"];
pub const DETERMINERS: [&str; 2] = ["the", "a"];
/// The question tokens: who acted, and who (or what) was acted on.
pub const QUESTIONS: [&str; 2] = ["who?", "whom?"];
/// Fills a sentence up to [`SENTENCE_LENGTH`].
pub const PAD: &str = "<pad>";
/// Up to two adjectives per noun.
pub const MAX_ADJECTIVES: usize = 2;
/// The question and the longest sentence: `who? the big red cat was
/// quickly chased by the small old dog`.
pub const SENTENCE_LENGTH: usize = 1 + 2 * (2 + MAX_ADJECTIVES) + 2 + PASSIVE.len();

/// Digits in a reverse or sort string.
pub const DIGITS: usize = 10;

/// The who-did-what vocabulary in id order: pad, questions, determiners,
/// nouns, verbs, adjectives, adverbs, the passive's words and the
/// participles that differ from the past tense.
pub fn vocabulary() -> Vec<&'static str> {
    let mut words = alloc::vec![PAD];
    for group in [
        &QUESTIONS[..],
        &DETERMINERS,
        &NOUNS,
        &VERBS,
        &ADJECTIVES,
        &ADVERBS,
        &PASSIVE,
    ] {
        words.extend_from_slice(group);
    }
    words.extend(PARTICIPLES.iter().filter(|p| !VERBS.contains(p)));
    words
}

/// The id of `word` in [`vocabulary`].
pub fn word_id(word: &str) -> Option<usize> {
    vocabulary().iter().position(|w| *w == word)
}

fn noun_id(noun: usize) -> usize {
    1 + QUESTIONS.len() + DETERMINERS.len() + noun
}

/// Which noun (0..10) a vocabulary id is, if it is one.
pub fn noun_of(id: usize) -> Option<usize> {
    let first = noun_id(0);
    (first..first + NOUNS.len()).contains(&id).then(|| id - first)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTask {
    WhoDidWhat,
    Reverse,
    Sort,
}

/// A batch of token sequences and their answers.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenBatch {
    /// `[N, L]` token ids, row-major.
    pub ids: Vec<usize>,
    pub count: usize,
    pub length: usize,
    /// The answer per sequence (`[N]`, who-did-what) or per position (`[N * L]`).
    pub targets: Vec<usize>,
}

impl TokenBatch {
    /// Sequence `i`'s ids.
    pub fn sequence(&self, i: usize) -> &[usize] {
        &self.ids[i * self.length..(i + 1) * self.length]
    }
}

impl TokenTask {
    /// Tokens the model embeds.
    pub fn vocab_size(self) -> usize {
        match self {
            TokenTask::WhoDidWhat => vocabulary().len(),
            TokenTask::Reverse | TokenTask::Sort => DIGITS,
        }
    }

    /// Classes of each answer.
    pub fn classes(self) -> usize {
        match self {
            TokenTask::WhoDidWhat => NOUNS.len(),
            TokenTask::Reverse | TokenTask::Sort => DIGITS,
        }
    }

    /// Whether every position has an answer (else only the question token).
    pub fn every_position(self) -> bool {
        self != TokenTask::WhoDidWhat
    }

    /// The sequence length: fixed for who-did-what, chosen for the digits.
    pub fn length(self, digits: usize) -> usize {
        match self {
            TokenTask::WhoDidWhat => SENTENCE_LENGTH,
            TokenTask::Reverse | TokenTask::Sort => digits,
        }
    }

    /// What a model that ignores word order scores: on who-did-what it
    /// can find the two nouns but not which acted, 1/2; on the digit tasks
    /// guessing a digit scores 1/10.
    pub fn chance(self) -> f32 {
        match self {
            TokenTask::WhoDidWhat => 0.5,
            TokenTask::Reverse | TokenTask::Sort => 1.0 / DIGITS as f32,
        }
    }

    /// Token text, for the page.
    pub fn token(self, id: usize) -> String {
        match self {
            TokenTask::WhoDidWhat => vocabulary()
                .get(id)
                .map_or_else(|| String::from("?"), |w| String::from(*w)),
            TokenTask::Reverse | TokenTask::Sort => format!("{id}"),
        }
    }

    /// Answer text, for the page.
    pub fn answer(self, class: usize) -> String {
        match self {
            TokenTask::WhoDidWhat => NOUNS.get(class).map_or_else(|| String::from("?"), |w| String::from(*w)),
            TokenTask::Reverse | TokenTask::Sort => format!("{class}"),
        }
    }

    /// `count` fresh examples; `digits` is the digit-string length.
    pub fn generate(self, count: usize, digits: usize, rng: &mut Rng) -> TokenBatch {
        let length = self.length(digits);
        let mut batch = TokenBatch {
            ids: Vec::with_capacity(count * length),
            count,
            length,
            targets: Vec::new(),
        };
        for _ in 0..count {
            match self {
                TokenTask::WhoDidWhat => {
                    let (ids, answer) = sentence(rng);
                    batch.ids.extend_from_slice(&ids);
                    batch.targets.push(answer);
                }
                TokenTask::Reverse | TokenTask::Sort => {
                    let digits: Vec<usize> = (0..length).map(|_| rng.below(DIGITS)).collect();
                    let mut answer = digits.clone();
                    if self == TokenTask::Reverse {
                        answer.reverse();
                    } else {
                        answer.sort_unstable();
                    }
                    batch.ids.extend_from_slice(&digits);
                    batch.targets.extend_from_slice(&answer);
                }
            }
        }
        batch
    }
}

/// One who-did-what example: ids padded to [`SENTENCE_LENGTH`], and the
/// answer (a noun, 0..10).
fn sentence(rng: &mut Rng) -> (Vec<usize>, usize) {
    let id = |w: &str| word_id(w).unwrap_or(0);
    let agent = rng.below(NOUNS.len());
    // A different noun: "the dog chased the dog" has no answer.
    let patient = (agent + 1 + rng.below(NOUNS.len() - 1)) % NOUNS.len();
    let question = rng.below(2);
    let mut ids = alloc::vec![id(QUESTIONS[question])];
    let noun_phrase = |ids: &mut Vec<usize>, noun: usize, rng: &mut Rng| {
        ids.push(id(DETERMINERS[rng.below(DETERMINERS.len())]));
        let adjectives = rng.below(MAX_ADJECTIVES + 1);
        let first = rng.below(ADJECTIVES.len());
        for k in 0..adjectives {
            // Distinct adjectives: "the big big dog" reads as a typo.
            ids.push(id(ADJECTIVES[(first + k) % ADJECTIVES.len()]));
        }
        ids.push(noun_id(noun));
    };
    let passive = rng.below(2) == 1;
    noun_phrase(&mut ids, if passive { patient } else { agent }, rng);
    if passive {
        ids.push(id("was"));
    }
    if rng.below(2) == 1 {
        ids.push(id(ADVERBS[rng.below(ADVERBS.len())]));
    }
    let verb = rng.below(VERBS.len());
    if passive {
        ids.push(id(PARTICIPLES[verb]));
        ids.push(id("by"));
        noun_phrase(&mut ids, agent, rng);
    } else {
        ids.push(id(VERBS[verb]));
        noun_phrase(&mut ids, patient, rng);
    }
    ids.resize(SENTENCE_LENGTH, id(PAD));
    (ids, if question == 0 { agent } else { patient })
}

/// A sentence the visitor typed, as ids after `question` (0: who?, 1:
/// whom?), padded; and the answer the grammar gives when the sentence has
/// exactly two nouns: the first acted on the second, or the other way round
/// when it says "was ... by".
pub fn parse_sentence(text: &str, question: usize) -> Result<(Vec<usize>, Option<usize>), String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '.' | ',' | '!' | ';' | ':'))
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err(String::from("Type a sentence, for example \"the dog chased the cat\"."));
    }
    let room = SENTENCE_LENGTH - 1;
    if words.len() > room {
        return Err(format!(
            "That sentence has {} words; the model reads at most {room} (it was trained on sentences up to that long).",
            words.len()
        ));
    }
    let unknown: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| word_id(w).is_none() || *w == PAD || QUESTIONS.contains(w))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = vocabulary()
            .into_iter()
            .filter(|w| *w != PAD && !QUESTIONS.contains(w))
            .collect();
        return Err(format!(
            "Unknown word{} \"{}\". The model knows only these words: {}.",
            if unknown.len() > 1 { "s" } else { "" },
            unknown.join("\", \""),
            known.join(", ")
        ));
    }
    let mut ids = alloc::vec![word_id(QUESTIONS[question.min(1)]).unwrap_or(0)];
    ids.extend(words.iter().filter_map(|w| word_id(w)));
    let nouns: Vec<usize> = ids.iter().filter_map(|&i| noun_of(i)).collect();
    let passive = words.iter().any(|w| w == "was") && words.iter().any(|w| w == "by");
    let agent_first = usize::from(passive);
    let answer = (nouns.len() == 2 && nouns[0] != nouns[1]).then(|| nouns[question.min(1) ^ agent_first]);
    ids.resize(SENTENCE_LENGTH, word_id(PAD).unwrap_or(0));
    Ok((ids, answer))
}

/// A digit string the visitor typed, for the reverse and sort tasks: exactly
/// `length` digits (spaces ignored), and the right answer at every position.
pub fn parse_digits(text: &str, length: usize, task: TokenTask) -> Result<(Vec<usize>, Vec<usize>), String> {
    let ids: Vec<usize> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(10).map(|d| d as usize).ok_or(c))
        .collect::<core::result::Result<_, char>>()
        .map_err(|c| format!("\"{c}\" is not a digit: type {length} digits from 0 to 9."))?;
    if ids.len() != length {
        return Err(format!(
            "Type exactly {length} digits (the model was trained on strings of {length}); that was {}.",
            ids.len()
        ));
    }
    let mut answer = ids.clone();
    if task == TokenTask::Sort {
        answer.sort_unstable();
    } else {
        answer.reverse();
    }
    Ok((ids, answer))
}

/// The fraction of answers `predicted` (argmax classes) got right.
pub fn accuracy(predicted: &[usize], targets: &[usize]) -> f32 {
    if targets.is_empty() {
        return 0.0;
    }
    let right = predicted.iter().zip(targets).filter(|(p, t)| p == t).count();
    right as f32 / targets.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn sentences_hold_both_nouns_and_the_right_answer() {
        let batch = TokenTask::WhoDidWhat.generate(200, 0, &mut Rng::new(3));
        assert_eq!((batch.length, batch.targets.len()), (SENTENCE_LENGTH, 200));
        let (mut who, mut passive, mut lengths) = (0, 0, alloc::collections::BTreeSet::new());
        for i in 0..200 {
            let s = batch.sequence(i);
            let nouns: Vec<usize> = s.iter().filter_map(|&id| noun_of(id)).collect();
            assert_eq!(nouns.len(), 2, "{s:?}");
            assert_ne!(nouns[0], nouns[1]);
            let asks_who = s[0] == word_id("who?").unwrap();
            who += usize::from(asks_who);
            let is_passive = s.contains(&word_id("by").unwrap());
            passive += usize::from(is_passive);
            let (agent, patient) = if is_passive {
                (nouns[1], nouns[0])
            } else {
                (nouns[0], nouns[1])
            };
            assert_eq!(batch.targets[i], if asks_who { agent } else { patient });
            lengths.insert(s.iter().filter(|&&id| id != 0).count());
        }
        // Both questions, both voices, and sentences of many lengths (positions vary).
        assert!((60..140).contains(&who), "{who}");
        assert!((60..140).contains(&passive), "{passive}");
        assert!(lengths.len() >= 4, "{lengths:?}");
    }

    #[test]
    fn swapping_the_nouns_keeps_the_words_and_changes_the_answer() {
        let (a, a_answer) = parse_sentence("the dog ate the food", 0).unwrap();
        let (b, b_answer) = parse_sentence("The food ate the dog.", 0).unwrap();
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_unstable();
        sb.sort_unstable();
        assert_eq!(sa, sb, "the same bag of words");
        assert_ne!(a, b);
        assert_eq!((a_answer, b_answer), (Some(0), Some(8)));
        assert_eq!(parse_sentence("the dog ate the food", 1).unwrap().1, Some(8));
        // The passive turns the roles round.
        assert_eq!(parse_sentence("the food was eaten by the dog", 0).unwrap().1, Some(0));
        assert_eq!(parse_sentence("the food was eaten by the dog", 1).unwrap().1, Some(8));
    }

    #[test]
    fn typed_sentences_with_problems_get_messages() {
        let unknown = parse_sentence("the wolf ate the dog", 0).unwrap_err();
        assert!(unknown.contains("\"wolf\"") && unknown.contains("chased"), "{unknown}");
        assert!(parse_sentence("   ", 0).unwrap_err().contains("Type a sentence"));
        let long = parse_sentence("the big red old dog was quickly chased by the small old young cat", 0).unwrap_err();
        assert!(long.contains("at most 12"), "{long}");
        assert!(
            parse_sentence("who? dog", 0).is_err(),
            "question words come from the question"
        );
        assert_eq!(parse_sentence("dog saw", 0).unwrap().1, None);
    }

    #[test]
    fn digit_tasks_reverse_and_sort() {
        let batch = TokenTask::Reverse.generate(3, 5, &mut Rng::new(1));
        for i in 0..3 {
            let mut s = batch.sequence(i).to_vec();
            s.reverse();
            assert_eq!(s, batch.targets[i * 5..(i + 1) * 5]);
        }
        let batch = TokenTask::Sort.generate(3, 6, &mut Rng::new(1));
        for i in 0..3 {
            let mut s = batch.sequence(i).to_vec();
            s.sort_unstable();
            assert_eq!(s, batch.targets[i * 6..(i + 1) * 6]);
        }
        assert_eq!(
            TokenTask::Sort.generate(2, 6, &mut Rng::new(9)),
            TokenTask::Sort.generate(2, 6, &mut Rng::new(9))
        );
        assert_eq!(
            parse_digits("3 1 4", 3, TokenTask::Sort),
            Ok((vec![3, 1, 4], vec![1, 3, 4]))
        );
        assert_eq!(parse_digits("314", 3, TokenTask::Reverse).unwrap().1, vec![4, 1, 3]);
        assert!(parse_digits("31", 3, TokenTask::Sort)
            .unwrap_err()
            .contains("exactly 3"));
        assert!(parse_digits("3x4", 3, TokenTask::Sort)
            .unwrap_err()
            .contains("\"x\" is not a digit"));
    }
}
