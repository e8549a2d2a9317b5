//! Operators across batches, against hand-computed expectations. Batches are
//! 5 s apart starting at FIRST = ...005_000, so 10 s slides fall on the odd
//! batches (at(1) = ...010_000, at(3) = ...020_000).

use super::*;

fn words(v: &str) -> Vec<String> {
    v.split(' ').map(str::to_owned).collect()
}

async fn run<T: crate::Element>(
    input: Vec<Vec<String>>,
    n: u64,
    build: impl FnOnce(&DStream<(Option<String>, String)>) -> DStream<T>,
) -> Vec<(i64, Vec<T>)> {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let ssc = context().stop_after_batches(n);
    let seen = collect(&build(&ssc.input_stream(source.clone(), earliest())));
    let feeding = feed(&source, input);
    ssc.run().await.unwrap();
    feeding.await.unwrap();
    seen.lock().unwrap().clone()
}

const S: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn window_spans_batch_boundaries_and_slides() {
    let input = batches(&[&["a"], &["b"], &["c"], &["d"], &["e"]]);
    let out = run(input, 5, |s| {
        s.map(|(_, v)| v).window(15 * S, 10 * S).unwrap()
    })
    .await;
    // Only at slide times; each holds (T - 15 s, T].
    assert_eq!(
        out,
        vec![
            (at(1), strings(&["a", "b"])),
            (at(3), strings(&["b", "c", "d"]))
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn window_counts_and_reductions() {
    let input = batches(&[&["a b"], &["a"], &[], &["c a"], &["b"]]);
    let counts = run(input.clone(), 5, |s| {
        s.flat_map(|(_, v)| words(&v))
            .count_by_window(10 * S, 5 * S)
            .unwrap()
    })
    .await;
    let c: Vec<u64> = counts.iter().map(|(_, v)| v[0]).collect();
    // Windows of two batches: {ab}, {ab,a}, {a,-}, {-,ca}, {ca,b}.
    assert_eq!(c, vec![2, 3, 1, 2, 3]);

    let by_value = run(input.clone(), 5, |s| {
        s.flat_map(|(_, v)| words(&v))
            .count_by_value_and_window(10 * S, 10 * S)
            .unwrap()
    })
    .await;
    let pairs = |v: &[(&str, u64)]| {
        v.iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_value,
        vec![
            (at(1), pairs(&[("a", 2), ("b", 1)])),
            (at(3), pairs(&[("a", 1), ("c", 1)])),
        ]
    );

    let sums = run(input, 5, |s| {
        s.map(|(_, v)| v.len() as u64)
            .reduce_by_window(|a, b| a + b, Some(|a: u64, b: u64| a - b), 15 * S, 5 * S)
            .unwrap()
    })
    .await;
    // Lengths per batch: 3, 1, 0 (no element), 3, 1; windows of three batches.
    let s: Vec<(i64, Vec<u64>)> = sums;
    assert_eq!(
        s,
        vec![
            (at(0), vec![3]),
            (at(1), vec![4]),
            (at(2), vec![4]),
            (at(3), vec![4]),
            (at(4), vec![4]),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn reduce_by_key_and_window_drops_keys_that_left() {
    let input = batches(&[&["x y"], &["x"], &[], &[]]);
    for inverse in [false, true] {
        let out = run(input.clone(), 4, move |s| {
            let pairs =
                s.flat_map(|(_, v)| words(&v).into_iter().map(|w| (w, 1u64)).collect::<Vec<_>>());
            let inv = inverse.then_some(|a: u64, b: u64| a - b);
            pairs
                .reduce_by_key_and_window(|a, b| a + b, inv, 10 * S, 5 * S)
                .unwrap()
        })
        .await;
        let p = |v: &[(&str, u64)]| {
            v.iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            out,
            vec![
                (at(0), p(&[("x", 1), ("y", 1)])),
                (at(1), p(&[("x", 2), ("y", 1)])),
                (at(2), p(&[("x", 1)])),
                (at(3), p(&[])),
            ],
            "inverse: {inverse}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn update_state_by_key_keeps_and_drops_state() {
    let input = batches(&[&["a b a"], &["a"], &[], &["b"]]);
    let out = run(input, 4, |s| {
        s.flat_map(|(_, v)| words(&v).into_iter().map(|w| (w, 1u64)).collect::<Vec<_>>())
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| {
                // Keys without news this batch are dropped.
                (!new.is_empty()).then(|| total.unwrap_or(0) + new.iter().sum::<u64>())
            })
    })
    .await;
    let p = |v: &[(&str, u64)]| {
        v.iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        out,
        vec![
            (at(0), p(&[("a", 2), ("b", 1)])),
            (at(1), p(&[("a", 3)])),
            (at(2), p(&[])),
            (at(3), p(&[("b", 1)])),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn state_is_updated_even_when_nothing_reads_it_that_batch() {
    // The state is only read through a 10 s window; it must still see every batch.
    let input = batches(&[&["a"], &["a"], &["a"], &["a"]]);
    let out = run(input, 4, |s| {
        s.map(|(_, v)| (v, 1u64))
            .update_state_by_key(|new: Vec<u64>, t: Option<u64>| {
                Some(t.unwrap_or(0) + new.len() as u64)
            })
            .window(5 * S, 10 * S)
            .unwrap()
    })
    .await;
    assert_eq!(
        out,
        vec![
            (at(1), vec![("a".to_owned(), 2)]),
            (at(3), vec![("a".to_owned(), 4)])
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn joins_unions_and_values_per_batch() {
    let input = batches(&[&["k1=a", "k2=b", "k1=c"], &["k3=d"]]);
    let out = run(input, 2, |s| {
        let kv = s.map(|(_, v)| {
            let (k, v) = v.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        });
        let lens = kv.filter(|(k, _)| k != "k2").map_values(|v| v.len());
        kv.left_outer_join(&lens)
            .map(|(k, (v, n))| (k, v, n))
            .union(&kv.group_by_key().map(|(k, vs)| (k, vs.join("+"), None)))
    })
    .await;
    let row = |k: &str, v: &str, n: Option<usize>| (k.to_owned(), v.to_owned(), n);
    assert_eq!(
        out,
        vec![
            (
                at(0),
                vec![
                    // k1 has two left values and two right values: 4 pairs.
                    row("k1", "a", Some(1)),
                    row("k1", "a", Some(1)),
                    row("k1", "c", Some(1)),
                    row("k1", "c", Some(1)),
                    row("k2", "b", None),
                    row("k1", "a+c", None),
                    row("k2", "b", None),
                ]
            ),
            (at(1), vec![row("k3", "d", Some(1)), row("k3", "d", None)]),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn bad_windows_and_mixed_slides_are_refused_before_running() {
    let ssc = context();
    let s = ssc.input_stream(MemorySource::new(), earliest());
    for (len, slide) in [
        (7 * S, 5 * S),
        (10 * S, 3 * S),
        (Duration::ZERO, 5 * S),
        (10 * S, Duration::from_micros(5_000_500)),
    ] {
        let err = s.window(len, slide).unwrap_err();
        assert!(matches!(err, StreamingError::InvalidWindow { .. }), "{err}");
        assert!(err.to_string().contains("multiple of 5s"), "{err}");
    }
    // A window of a 10 s window must slide by multiples of 10 s.
    let w = s.window(20 * S, 10 * S).unwrap();
    assert!(w.window(30 * S, 5 * S).is_err());
    assert!(w.window(30 * S, 10 * S).is_ok());
    // Union of streams with different slides: refused by start.
    w.union(&s)
        .foreach_batch(|_, _: &[(Option<String>, String)]| {});
    let err = ssc.start().await.unwrap_err();
    assert!(
        matches!(err, StreamingError::InvalidGraph(ref m) if m.contains("union")),
        "{err}"
    );
}
