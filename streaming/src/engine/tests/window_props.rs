//! Property: `reduce_by_key_and_window` with an inverse function gives
//! exactly what a full recompute gives, and both equal a direct model, on
//! random batches, window lengths and slides.

use proptest::prelude::*;

use super::*;

fn model(batches: &[Vec<(u8, i64)>], len: usize, slide: usize, i: usize) -> Option<Vec<(u8, i64)>> {
    // Batch i is at FIRST + 5 s * i; slides are multiples of 5 s aligned to the epoch.
    let t = at(i as i64);
    if t % (slide as i64 * 5_000) != 0 {
        return None;
    }
    let mut acc: BTreeMap<u8, i64> = BTreeMap::new();
    for b in &batches[i.saturating_sub(len - 1)..=i] {
        for (k, v) in b {
            *acc.entry(*k).or_default() += v;
        }
    }
    Some(acc.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn inverse_reduce_equals_full_recompute(
        batches in prop::collection::vec(
            prop::collection::vec((0u8..5, -3i64..10), 0..6), 1..14),
        len in 1usize..5,
        slide in 1usize..4,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let n = batches.len();
        let input: Vec<Vec<String>> = batches
            .iter()
            .map(|b| b.iter().map(|(k, v)| format!("{k} {v}")).collect())
            .collect();
        let (full, incremental) = rt.block_on(async move {
            let source = MemorySource::new();
            source.create_topic("mytopic", 1);
            let ssc = context().stop_after_batches(n as u64);
            let pairs = ssc.input_stream(source.clone(), earliest()).map(|(_, v)| {
                let (k, v) = v.split_once(' ').unwrap();
                (k.parse::<u8>().unwrap(), v.parse::<i64>().unwrap())
            });
            let (l, s) = (Duration::from_secs(5 * len as u64), Duration::from_secs(5 * slide as u64));
            let none: Option<fn(i64, i64) -> i64> = None;
            let full = collect(&pairs.reduce_by_key_and_window(|a, b| a + b, none, l, s).unwrap());
            let inc = collect(&pairs.reduce_by_key_and_window(|a, b| a + b, Some(|a, b| a - b), l, s).unwrap());
            let feeding = feed(&source, input);
            ssc.run().await.unwrap();
            feeding.await.unwrap();
            let full = full.lock().unwrap().clone();
            let inc = inc.lock().unwrap().clone();
            (full, inc)
        });
        prop_assert_eq!(&full, &incremental);
        let expected: Vec<(i64, Vec<(u8, i64)>)> = (0..n)
            .filter_map(|i| model(&batches, len, slide, i).map(|m| (at(i as i64), m)))
            .collect();
        prop_assert_eq!(full, expected);
    }
}
