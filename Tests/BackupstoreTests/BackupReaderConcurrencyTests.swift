import Foundation
import Testing

@testable import Backupstore

/// Wraps a store and records how many `get`s run at once.
actor InFlightCountingStore: ObjectStore {
    let inner: InMemoryObjectStore
    private(set) var inFlight = 0
    private(set) var maximumInFlight = 0

    init(inner: InMemoryObjectStore) { self.inner = inner }

    func get(_ key: String) async throws -> Data {
        inFlight += 1
        maximumInFlight = max(maximumInFlight, inFlight)
        defer { inFlight -= 1 }
        try await Task.sleep(for: .milliseconds(5))  // hold the slot so overlap can build up
        return try await inner.get(key)
    }

    func put(_ key: String, data: Data) async throws { try await inner.put(key, data: data) }
    func list(prefix: String) async throws -> [String] { try await inner.list(prefix: prefix) }
    func head(_ key: String) async throws -> ObjectInfo? { try await inner.head(key) }
    func delete(_ key: String) async throws { try await inner.delete(key) }
}

@Suite("Reader concurrency")
struct BackupReaderConcurrencyTests {
    @Test("block fetches stay within the parallelism bound", arguments: [1, 3])
    func boundedParallelism(parallelism: Int) async throws {
        let fixture = try StoreFixture()
        let blockSize = 4096
        let blocks: [[UInt8]?] = (0..<10).map { TestData.text(blockSize, seed: 90 + UInt64($0)) }
        let image = try fixture.image("p.img", blocks: blocks, blockSize: blockSize)
        let memory = InMemoryObjectStore()
        _ = try await BackupWriter(store: memory).backup(
            imageAt: image, volumeName: "pvc-par", backupName: "b", options: .init(blockSize: blockSize),
            now: StoreFixture.now)
        let counting = InFlightCountingStore(inner: memory)
        let result = try await BackupReader(store: counting).verify(
            volume: "pvc-par", backup: "b", parallelism: parallelism)
        #expect(result.blocksVerified == 10)
        let peak = await counting.maximumInFlight
        #expect(peak <= parallelism)
        if parallelism > 1 { #expect(peak > 1, "fetches never overlapped") }
    }

    @Test("cancelling a verification stops it with an error, not a success")
    func cancellation() async throws {
        let fixture = try StoreFixture()
        let blockSize = 4096
        let image = try fixture.image("c.img", blocks: [TestData.text(blockSize, seed: 200)], blockSize: blockSize)
        let memory = InMemoryObjectStore()
        _ = try await BackupWriter(store: memory).backup(
            imageAt: image, volumeName: "pvc-cancel", backupName: "b", options: .init(blockSize: blockSize),
            now: StoreFixture.now)
        // Block reads hang until cancelled, so only cancellation can end this verification.
        let reader = BackupReader(store: HangingBlockStore(inner: memory))
        let task = Task { try await reader.verify(volume: "pvc-cancel", backup: "b", parallelism: 2) }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        let outcome = await task.result
        #expect(throws: (any Error).self) { try outcome.get() }
    }
}

/// Answers cfg reads, but block reads wait (cancellably) for a minute.
struct HangingBlockStore: ObjectStore {
    let inner: InMemoryObjectStore

    func get(_ key: String) async throws -> Data {
        if key.hasSuffix(".blk") { try await Task.sleep(for: .seconds(60)) }
        return try await inner.get(key)
    }

    func put(_ key: String, data: Data) async throws { try await inner.put(key, data: data) }
    func list(prefix: String) async throws -> [String] { try await inner.list(prefix: prefix) }
    func head(_ key: String) async throws -> ObjectInfo? { try await inner.head(key) }
    func delete(_ key: String) async throws { try await inner.delete(key) }
}
