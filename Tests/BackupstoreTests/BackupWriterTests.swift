import Foundation
import Testing

@testable import Backupstore

@Suite("Backup writer")
struct BackupWriterTests {
    @Test("bad inputs are typed errors with hints")
    func badInputs() async throws {
        let fixture = try StoreFixture()
        let odd = try fixture.image("odd.img", blocks: [TestData.text(4096, seed: 1)], blockSize: 4096)
        let notMultiple = await #expect(throws: BackupstoreError.self) {
            try await fixture.writer.backup(
                imageAt: odd, volumeName: "v", backupName: "b", options: .init(blockSize: 8192), now: StoreFixture.now)
        }
        #expect(notMultiple?.code == .invalidArgument)
        #expect(notMultiple?.hint != nil)

        let badSize = await #expect(throws: BackupstoreError.self) {
            try await fixture.writer.backup(
                imageAt: odd, volumeName: "v", backupName: "b", options: .init(blockSize: 3000), now: StoreFixture.now)
        }
        #expect(badSize?.code == .invalidArgument)

        let missing = await #expect(throws: BackupstoreError.self) {
            try await fixture.writer.backup(
                imageAt: fixture.directory.file("nope.img"), volumeName: "v", backupName: "b", now: StoreFixture.now)
        }
        #expect(missing?.code == .notFound)

        let badName = await #expect(throws: BackupstoreError.self) {
            try await fixture.writer.backup(imageAt: odd, volumeName: "a/b", backupName: "b", now: StoreFixture.now)
        }
        #expect(badName?.code == .invalidArgument)
        #expect(try await fixture.store.list(prefix: "") == [])  // nothing written on failure before the first put
    }

    @Test("cfgs in the store are Longhorn's bytes: double-encoded volume fields, plain backup method")
    func storedBytes() async throws {
        let fixture = try StoreFixture()
        let blockSize = 4096
        let image = try fixture.image(
            "img", blocks: [TestData.text(blockSize, seed: 2), nil], blockSize: blockSize)
        _ = try await fixture.writer.backup(
            imageAt: image, volumeName: "pvc-bytes", backupName: "backup-1",
            options: .init(blockSize: blockSize, labels: ["app": "<db>"], storageClassName: "longhorn"),
            now: StoreFixture.now)
        let volume = String(
            decoding: try await fixture.store.get(fixture.layout.volumeConfigKey("pvc-bytes")), as: UTF8.self)
        #expect(volume.contains(#""CompressionMethod":"\"lz4\"""#))
        #expect(volume.contains(#""DataEngine":"\"v1\"""#))
        #expect(volume.contains(#""StorageClassName":"\"longhorn\"""#))
        #expect(volume.contains(#""Size":"8192""#))
        #expect(volume.contains(#""BlockCount":"1""#))
        #expect(volume.contains(#""Labels":{"app":"\u003cdb\u003e"}"#))
        let backup = String(
            decoding: try await fixture.store.get(fixture.layout.backupConfigKey(volume: "pvc-bytes", backup: "backup-1")),
            as: UTF8.self)
        #expect(backup.contains(#""CompressionMethod":"lz4""#))
        #expect(backup.contains(#""ProcessingBlocks":{}"#))  // a first backup, as Longhorn writes it
        #expect(backup.contains(#""Parameters":{"backup-block-size":"4096"}"#))
        #expect(backup.contains(#""Blocks":[{"Offset":0,"BlockChecksum":""#))
    }

    @Test("writer and reader work on the in-memory store too")
    func inMemory() async throws {
        let directory = try TemporaryDirectory()
        let store = InMemoryObjectStore()
        let writer = BackupWriter(store: store)
        let reader = BackupReader(store: store)
        let blockSize = 8192
        let fixture = try StoreFixture()
        let blocks: [[UInt8]?] = [nil, TestData.random(blockSize, seed: 3), TestData.text(blockSize, seed: 4), nil]
        let image = try fixture.image("mem.img", blocks: blocks, blockSize: blockSize)
        _ = try await writer.backup(
            imageAt: image, volumeName: "pvc-mem", backupName: "b1",
            options: .init(blockSize: blockSize, compression: .none), now: StoreFixture.now)
        let output = directory.file("out.img")
        let result = try await reader.restore(volume: "pvc-mem", backup: "b1", to: output, parallelism: 1)
        #expect(result.blocksVerified == 2)
        #expect(try Data(contentsOf: output) == Data(contentsOf: image))
        #expect(await store.allObjects.keys.allSatisfy { $0.hasPrefix("backupstore/volumes/") })
    }

    @Test("errors render code, subject, detail and hint")
    func errorRendering() {
        let error = BackupstoreError(
            .blockMissing, subject: "volume v backup b block at offset 0", detail: "gone",
            hint: "create a full backup", key: "k", blockOffset: 0)
        #expect(error.description == "error: blockMissing: volume v backup b block at offset 0: gone\n  hint: create a full backup")
        #expect(GoJSONWriter.quote("a\"b\\c\n\u{01}<>&\u{2028}") == #""a\"b\\c\n\u0001\u003c\u003e\u0026\u2028""#)
    }
}
