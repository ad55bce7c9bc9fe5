//! What the fake shell costs in memory: a `World`'s heap, and the heap bytes a `Shell` keeps
//! after `Shell::new`, measured with a counting global allocator (in a test binary of its
//! own, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tripline_honeypot::shell::{Identity, Limits, Shell, World};

struct Counting;

/// Bytes allocated and not freed.
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// One test only: the counter is global, a second test running alongside would skew it.
#[test]
fn worlds_cost_a_few_hundred_kilobytes_and_idle_shells_almost_nothing() {
    worlds();
    idle_shells();
}

fn idle_shells() {
    let id = Identity::generate(11);
    let before_world = ALLOCATED.load(Ordering::Relaxed);
    let world = World::new(id);
    let world_heap = ALLOCATED.load(Ordering::Relaxed) - before_world;
    let name = world
        .identity()
        .users
        .iter()
        .find(|u| u.uid >= 1000 && u.uid < 65_534)
        .map(|u| u.name.clone())
        .unwrap();
    let base_bytes = world.heap_bytes();
    // warm up anything lazily initialised
    drop(Shell::new(world.clone(), "root", Limits::default()));
    for user in ["root", name.as_str()] {
        let before = ALLOCATED.load(Ordering::Relaxed);
        let mut shells: Vec<Shell> = Vec::with_capacity(1000);
        shells.extend((0..1000).map(|_| Shell::new(world.clone(), user, Limits::default())));
        let per_shell =
            (ALLOCATED.load(Ordering::Relaxed) - before - 1000 * std::mem::size_of::<Shell>())
                / 1000;
        // the home directory's path ("/root", "/home/name") and nothing else
        assert!(
            per_shell <= 32,
            "{user}: {per_shell} bytes kept per idle shell"
        );
        assert!(shells.iter().all(|s| s.overlay_bytes() == 0));
        // nothing like a copy of the base (hundreds of kilobytes)
        assert!(per_shell * 100 < base_bytes);
        println!("{user}: size_of::<Shell>() = {}, kept by new = {per_shell} B; World: {world_heap} B of heap ({base_bytes} B estimated) in {} entries", std::mem::size_of::<Shell>(), world.entries());
    }
}

fn worlds() {
    let mut most = 0;
    for seed in 0..30 {
        let id = Identity::generate(seed);
        let before = ALLOCATED.load(Ordering::Relaxed);
        let world = World::new(id);
        let heap = ALLOCATED.load(Ordering::Relaxed) - before;
        most = most.max(heap);
        assert!(heap < 1 << 20, "seed {seed}: {heap} bytes");
        drop(world);
    }
    println!(
        "largest World of 30: {most} bytes of heap, size_of::<World>() = {}",
        std::mem::size_of::<World>()
    );
}
