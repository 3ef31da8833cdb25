import Foundation
import Synchronization

/// The loop every simulated controller runs: level-triggered passes, but only when something could
/// have changed (the store's revision, or another source such as container exits), and at least
/// every `idlePeriod` for time-driven work (TTLs). Many clusters run side by side in tests on a
/// small machine; idle clusters must not burn CPU polling.
struct ControllerLoop: Sendable {
    let store: ClusterStore
    let interval: Duration
    var idlePeriod: Duration = .seconds(1)
    /// Extra change counter (e.g. the container runtime's); nil when only the store matters.
    var changes: ChangeCounter?

    func run(_ pass: @Sendable () async -> Void) async {
        let clock = ContinuousClock()
        var seen: (Int64, Int)?
        var lastPass = clock.now
        while !Task.isCancelled {
            let now = (await store.currentRevision, changes?.value ?? 0)
            if seen.map({ $0 != now }) ?? true || clock.now - lastPass >= idlePeriod {
                await pass()
                lastPass = clock.now
                // What the pass wrote itself is seen on the next round and triggers one more pass,
                // which settles follow-up work (e.g. binding after provisioning).
                seen = now
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// A counter bumped from any thread when something a controller reacts to happens outside the store.
final class ChangeCounter: Sendable {
    private let count = Mutex(0)

    func bump() {
        count.withLock { $0 += 1 }
    }

    var value: Int { count.withLock { $0 } }
}
