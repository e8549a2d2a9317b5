//! The cooperative-sticky assignor (KIP-429 on top of KIP-54's sticky goals).
//!
//! Goals, in order: every subscribed partition has one owner, members are balanced (with
//! equal subscriptions, partition counts differ by at most one), and partitions stay with
//! the member that owns them. Then the cooperative rule: a partition that moves from member
//! A to member B is left out of this round entirely; A sees it missing from its assignment,
//! revokes it and rejoins, and the following rebalance (where nobody owns it) gives it to B.
//! So no partition is ever owned by two members at once, and members that keep their
//! partitions keep consuming through the rebalance.
//!
//! Ownership comes from each member's subscription (v1+ `owned_partitions`, v2+
//! `generation_id`): a partition claimed by two members goes to the claim with the highest
//! generation (Java's rule for members that missed a rebalance); claims of partitions that
//! no longer exist or are no longer subscribed are dropped.

use std::collections::{BTreeMap, BTreeSet};

use super::assignor::{MemberSubscription, member_order};
use crate::types::TopicPartition;

/// The assignment for the next generation, with moved partitions withheld.
pub(crate) fn assign(
    members: &[MemberSubscription],
    partitions: &BTreeMap<String, i32>,
) -> BTreeMap<String, Vec<TopicPartition>> {
    let mut order: Vec<&MemberSubscription> = members.iter().collect();
    order.sort_by(|a, b| member_order(a, b));
    let ids: Vec<&str> = order.iter().map(|m| m.member_id.as_str()).collect();
    let subscribed = |m: &MemberSubscription, tp: &TopicPartition| {
        m.topics.contains(&tp.topic) && partitions.get(&tp.topic).is_some_and(|&n| tp.partition < n)
    };

    // Valid previous owners.
    let mut owner: BTreeMap<TopicPartition, (i32, usize)> = BTreeMap::new();
    for (i, m) in order.iter().enumerate() {
        for tp in &m.owned {
            if !subscribed(m, tp) {
                continue;
            }
            match owner.get(tp) {
                Some(&(generation, _)) if generation >= m.generation => {}
                _ => {
                    owner.insert(tp.clone(), (m.generation, i));
                }
            }
        }
    }
    let mut load: Vec<BTreeSet<TopicPartition>> = vec![BTreeSet::new(); order.len()];
    for (tp, &(_, i)) in &owner {
        load[i].insert(tp.clone());
    }

    // Every partition somebody subscribes to.
    let all: Vec<TopicPartition> = partitions
        .iter()
        .filter(|(t, _)| order.iter().any(|m| m.topics.contains(t)))
        .flat_map(|(t, &n)| (0..n.max(0)).map(move |p| TopicPartition::new(t.clone(), p)))
        .collect();

    // Members above the fair share give partitions back before the free ones are dealt.
    let eligible: Vec<usize> = order
        .iter()
        .map(|m| all.iter().filter(|tp| m.topics.contains(&tp.topic)).count())
        .collect();
    let sharers = |tp: &TopicPartition| {
        order
            .iter()
            .filter(|m| m.topics.contains(&tp.topic))
            .count()
    };
    for i in 0..order.len() {
        // The fair share of member i: its eligible partitions split among the members
        // eligible for them, rounded up (exact for equal subscriptions).
        let share: usize = {
            let s: f64 = all
                .iter()
                .filter(|tp| order[i].topics.contains(&tp.topic))
                .map(|tp| 1.0 / sharers(tp) as f64)
                .sum();
            (s.ceil() as usize).min(eligible[i])
        };
        while load[i].len() > share {
            let Some(tp) = load[i].iter().next_back().cloned() else {
                break;
            };
            load[i].remove(&tp);
        }
    }

    // Deal unowned partitions to the least-loaded eligible member.
    let taken: BTreeSet<TopicPartition> = load.iter().flatten().cloned().collect();
    for tp in all.iter().filter(|tp| !taken.contains(*tp)) {
        let best = (0..order.len())
            .filter(|&i| order[i].topics.contains(&tp.topic))
            .min_by_key(|&i| (load[i].len(), i));
        if let Some(i) = best {
            load[i].insert(tp.clone());
        }
    }

    // Balance: move from the most to the least loaded member while that helps.
    let limit = all.len() * order.len() + 1;
    for _ in 0..limit {
        let mut moved = false;
        let mut by_load: Vec<usize> = (0..order.len()).collect();
        by_load.sort_by_key(|&i| (std::cmp::Reverse(load[i].len()), i));
        'outer: for &hi in &by_load {
            for &lo in by_load.iter().rev() {
                if load[hi].len() <= load[lo].len() + 1 {
                    continue;
                }
                // Prefer a partition hi did not own before (cheapest to move).
                let candidate = load[hi]
                    .iter()
                    .filter(|tp| order[lo].topics.contains(&tp.topic))
                    .max_by_key(|tp| owner.get(*tp).is_none_or(|&(_, o)| o != hi))
                    .cloned();
                if let Some(tp) = candidate {
                    load[hi].remove(&tp);
                    load[lo].insert(tp);
                    moved = true;
                    break 'outer;
                }
            }
        }
        if !moved {
            break;
        }
    }

    // Cooperative rule: withhold partitions another member still owns.
    let mut out: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let list = load[i]
            .iter()
            .filter(|tp| owner.get(*tp).is_none_or(|&(_, o)| o == i))
            .cloned()
            .collect();
        out.insert((*id).to_owned(), list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn member(id: &str, topics: &[&str], owned: &[TopicPartition]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.into(),
            group_instance_id: None,
            topics: topics.iter().map(|t| (*t).into()).collect(),
            owned: owned.to_vec(),
            generation: 1,
        }
    }

    fn tps(t: &str, ps: &[i32]) -> Vec<TopicPartition> {
        ps.iter().map(|&p| TopicPartition::new(t, p)).collect()
    }

    #[test]
    fn a_joining_member_takes_partitions_in_two_rounds() {
        let parts = BTreeMap::from([("t".to_string(), 4)]);
        // Round 0: A alone owns everything; B joins.
        let a_owned = tps("t", &[0, 1, 2, 3]);
        let r1 = assign(
            &[member("A", &["t"], &a_owned), member("B", &["t"], &[])],
            &parts,
        );
        // A keeps two, and nothing moves to B yet (A still owns the other two).
        assert_eq!(r1["A"].len(), 2);
        assert!(r1["B"].is_empty(), "{r1:?}");
        // Round 2: A revoked the two; B gets them.
        let r2 = assign(
            &[member("A", &["t"], &r1["A"]), member("B", &["t"], &[])],
            &parts,
        );
        assert_eq!(r2["A"], r1["A"], "sticky");
        assert_eq!(r2["B"].len(), 2);
    }

    #[test]
    fn the_newest_generation_wins_a_double_claim() {
        let parts = BTreeMap::from([("t".to_string(), 2)]);
        let mut old = member("A", &["t"], &tps("t", &[0, 1]));
        old.generation = 1;
        let mut new = member("B", &["t"], &tps("t", &[0]));
        new.generation = 2;
        let r = assign(&[old, new], &parts);
        assert_eq!(r["B"], tps("t", &[0]));
        assert_eq!(r["A"], tps("t", &[1]));
    }

    proptest! {
        /// Two rounds (the second after members revoke what they lost) assign every
        /// partition exactly once, balanced, and the first round never hands a partition
        /// to a member while another still owns it.
        #[test]
        fn converges_balanced_and_never_double_owns(
            counts in proptest::collection::vec(1i32..6, 1..3),
            n_members in 1usize..5,
            owned_seed in proptest::collection::vec(any::<u8>(), 0..30),
        ) {
            let parts: BTreeMap<String, i32> = counts.iter().enumerate().map(|(i, &n)| (format!("t{i}"), n)).collect();
            let topics: Vec<&str> = parts.keys().map(String::as_str).collect();
            let all: Vec<TopicPartition> = parts.iter().flat_map(|(t, &n)| (0..n).map(move |p| TopicPartition::new(t.clone(), p))).collect();
            // Random previous ownership (disjoint).
            let mut owned: Vec<Vec<TopicPartition>> = vec![Vec::new(); n_members];
            for (tp, s) in all.iter().zip(owned_seed.iter().chain(std::iter::repeat(&255))) {
                let m = *s as usize % (n_members + 1);
                if m < n_members { owned[m].push(tp.clone()); }
            }
            let ms: Vec<MemberSubscription> = (0..n_members).map(|i| member(&format!("m{i}"), &topics, &owned[i])).collect();
            let r1 = assign(&ms, &parts);
            for (i, m) in ms.iter().enumerate() {
                for tp in &r1[&m.member_id] {
                    let other = owned.iter().enumerate().any(|(j, o)| j != i && o.contains(tp));
                    prop_assert!(!other, "{tp} handed to {} while owned elsewhere", m.member_id);
                }
            }
            // Members revoke what they lost; round 2.
            let ms2: Vec<MemberSubscription> = ms.iter().map(|m| member(&m.member_id, &topics, &r1[&m.member_id])).collect();
            let r2 = assign(&ms2, &parts);
            let mut seen: Vec<TopicPartition> = r2.values().flatten().cloned().collect();
            seen.sort();
            let before = seen.len();
            seen.dedup();
            prop_assert_eq!(before, seen.len(), "a partition assigned twice");
            prop_assert_eq!(seen, all.clone());
            let sizes: Vec<usize> = r2.values().map(Vec::len).collect();
            prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{:?}", sizes);
            // Sticky: what a member kept in round 1 it still has in round 2.
            for m in &ms {
                for tp in &r1[&m.member_id] {
                    prop_assert!(r2[&m.member_id].contains(tp));
                }
            }
        }
    }
}
