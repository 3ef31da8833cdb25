import Foundation
import KubeClient
import KubeModels
import Simulator
import SimulatorTestSupport
import Testing

/// The shared informer: one watch for any number of waits, a cache that lags a write without
/// turning it into a deletion, and errors that reach every waiter.
@Suite struct SharedInformerTests {
    @Test func fiftyConcurrentWaitsShareOneWatch() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            let informer = await client.informer(.configMaps, namespace: "default")
            let names = (0..<50).map { "c\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names {
                    group.addTask {
                        try await client.waitFor(informer, name: name, timeout: .seconds(120), until: "ready") {
                            $0?[path: ["data", "ready"]] == "yes"
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                for name in names {
                    try await client.create(.configMaps, namespace: "default", object: configMap(name, data: ["ready": "yes"]))
                }
                try await group.waitForAll()
            }
            let watches = await cluster.log.entries.filter { $0.path.hasSuffix("/configmaps") && $0.query.contains("watch=true") }
            #expect(watches.count == 1, "50 waits, \(watches.count) watch requests")
        }
    }

    @Test func anObjectCreatedJustBeforeTheWaitIsNotTakenForDeleted() async throws {
        try await SimulatorHarness.withClient { client, _, _ in
            let informer = await client.informer(.configMaps, namespace: "default")
            // The informer is synced before the object exists, so its cache lags the create below.
            _ = try await client.waitFor(informer, name: "other", timeout: .seconds(120), until: "absent") { $0 == nil }
            for round in 0..<20 {
                let name = "fresh-\(round)"
                try await client.create(.configMaps, namespace: "default", object: configMap(name))
                let seen = try await client.waitFor(informer, name: name, timeout: .seconds(120), until: "present or deleted") { _ in true }
                #expect(seen != nil, "round \(round): a lagging cache must not report a just-created object as deleted")
            }
        }
    }

    @Test func aDeletionIsSeen() async throws {
        try await SimulatorHarness.withClient { client, _, _ in
            try await client.create(.configMaps, namespace: "default", object: configMap("doomed"))
            let informer = await client.informer(.configMaps, namespace: "default")
            let waiting = Task { try await client.waitFor(informer, name: "doomed", timeout: .seconds(120), until: "deleted") { $0 == nil } }
            try await Task.sleep(for: .milliseconds(300))
            try await client.delete(.configMaps, namespace: "default", name: "doomed")
            let result = try await waiting.value
            #expect(result == nil)
        }
    }

    @Test func aDeletionRightAfterTheWaitStartsIsSeenNotWaitedOut() async throws {
        // The read, the informer's first list and the delete race each other; whichever order
        // they land in, the deletion is seen (the cache is trusted once it is as new as the read).
        try await SimulatorHarness.withClient { client, _, _ in
            for round in 0..<10 {
                let name = "race-\(round)"
                try await client.create(.configMaps, namespace: "default", object: configMap(name))
                let informer = await client.informer(.configMaps, namespace: "default")
                let waiting = Task { try await client.waitFor(informer, name: name, timeout: .seconds(120), until: "deleted") { $0 == nil } }
                try await client.delete(.configMaps, namespace: "default", name: name)
                let result = try await waiting.value
                #expect(result == nil, "round \(round)")
            }
        }
    }

    @Test func aBurstOfWritesReachesTheCache() async throws {
        // (Resuming and relisting on 410 is the watch's, tested in KubeClientTests.)
        try await SimulatorHarness.withClient { client, _, _ in
            let informer = await client.informer(.configMaps, namespace: "default")
            _ = try await client.waitFor(informer, name: "first", timeout: .seconds(120), until: "absent") { $0 == nil }
            for index in 0..<30 { try await client.create(.configMaps, namespace: "default", object: configMap("burst-\(index)")) }
            var count = 0
            for try await _ in await informer.changes() {
                count = await informer.items.filter { $0[path: ["metadata", "name"]]?.stringValue?.hasPrefix("burst-") == true }.count
                if count == 30 { break }
            }
            #expect(count == 30)
        }
    }

    @Test func aRefusedWatchFailsEveryWaiterWithTheReason() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            // The single reads succeed; the informer's watch is refused.
            await cluster.faults.fail(verb: "watch", resource: "secrets", status: 403, count: 100)
            let informer = await client.informer(.secrets, namespace: "default")
            let errors = await withTaskGroup(of: KubeClientError?.self) { group in
                for name in ["a", "b", "c"] {
                    group.addTask {
                        await expectKubeError {
                            try await client.waitFor(informer, name: name, timeout: .seconds(120), until: "present") { $0 != nil }
                        }
                    }
                }
                return await group.reduce(into: [KubeClientError?]()) { $0.append($1) }
            }
            #expect(errors.count == 3 && errors.allSatisfy { $0?.code == .forbidden }, "\(errors)")
        }
    }
}
