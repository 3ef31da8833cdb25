import Foundation
import Testing

@testable import Backupstore

@Suite("Object stores")
struct ObjectStoreTests {
    /// The same contract for every implementation.
    static func exercise(_ store: any ObjectStore) async throws {
        #expect(try await store.list(prefix: "") == [])
        try await store.put("a/b/one.blk", data: Data("first".utf8))
        try await store.put("a/b/one.blk", data: Data("one".utf8))  // replace
        try await store.put("a/c/two.cfg", data: Data("two-two".utf8))
        try await store.put("top", data: Data())

        #expect(try await store.get("a/b/one.blk") == Data("one".utf8))
        #expect(try await store.get("a/c/two.cfg", range: 2..<5) == Data("o-t".utf8))
        #expect(try await store.get("a/c/two.cfg", range: 4..<100) == Data("two".utf8))
        #expect(try await store.head("a/c/two.cfg") == ObjectInfo(size: 7))
        #expect(try await store.head("a/c/none") == nil)
        #expect(try await store.exists("top"))
        #expect(try await store.list(prefix: "a/") == ["a/b/one.blk", "a/c/two.cfg"])
        #expect(try await store.list(prefix: "a/b") == ["a/b/one.blk"])
        #expect(try await store.list(prefix: "") == ["a/b/one.blk", "a/c/two.cfg", "top"])
        #expect(try await store.list(prefix: "zzz/") == [])

        let missing = await #expect(throws: BackupstoreError.self) { try await store.get("a/missing") }
        #expect(missing?.code == .notFound)
        #expect(missing?.key == "a/missing")

        try await store.delete("a/b/one.blk")
        try await store.delete("a/b/one.blk")  // deleting a missing object succeeds
        #expect(try await store.exists("a/b/one.blk") == false)
        #expect(try await store.list(prefix: "a/") == ["a/c/two.cfg"])
    }

    @Test("in-memory store")
    func inMemory() async throws {
        try await Self.exercise(InMemoryObjectStore())
    }

    @Test("file system store; no temporary files left behind; bad keys rejected")
    func fileSystem() async throws {
        let directory = try TemporaryDirectory()
        let store = FileSystemObjectStore(root: directory.url)
        try await Self.exercise(store)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: directory.url.path)
            .filter { $0.contains(FileSystemObjectStore.temporaryPrefix) }
        #expect(leftovers.isEmpty)
        for bad in ["", "/etc/passwd", "a/../../x", "a//b", "a/./b", "dir/"] {
            let error = await #expect(throws: BackupstoreError.self, "key \(bad)") {
                try await store.put(bad, data: Data())
            }
            #expect(error?.code == .invalidArgument)
        }
    }
}
