import Backupstore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which block objects of one backup store `assure` verified, and in which run.
///
/// Longhorn's block objects are named after the SHA-512 of their content and shared between
/// backups, so a block verified yesterday needs no second read today, unless the store changed it
/// (bit rot, a lifecycle rule, a bad copy). So each run verifies every block it has no record of,
/// plus a rolling share of the others: the blocks whose checksum falls in this run's slice of
/// `fullEvery` slices. Every block is read again at least once every `fullEvery` runs, and a
/// corrupted old block is found within that many runs.
///
/// Kept where the user chooses (a file, or the store beside Longhorn's folders), never inside
/// Longhorn's backupstore folders; a file is written atomically, mode 0600.
public struct VerifiedBlockLedger: Codable, Sendable, Equatable {
    /// The store it describes (`s3://bucket@region/path/`); a ledger of another store is not used.
    public var store: String
    /// Runs completed so far; the next run is `runs + 1`.
    public var runs: Int
    /// Block checksum → the run that last verified it.
    public var blocks: [String: Int]
    /// With `--restore-test`: the volume the last restore test took, so the next takes the one after it.
    public var lastRestoreTest: String?

    public init(store: String, runs: Int = 0, blocks: [String: Int] = [:]) {
        self.store = store
        self.runs = runs
        self.blocks = blocks
    }

    /// Whether run `run` verifies `checksum`: unknown blocks always, known ones in their slice,
    /// and any whose last check is `fullEvery` runs ago or more (a slice missed while a volume
    /// was failing).
    public func needsCheck(_ checksum: String, run: Int, fullEvery: Int) -> Bool {
        guard let last = blocks[checksum] else { return true }
        if fullEvery <= 1 || run - last >= fullEvery { return true }
        return Self.slice(of: checksum, count: fullEvery) == run % fullEvery
    }

    /// The slice a checksum falls in: its first 8 hex digits modulo `count`, so slices are even
    /// and stable from run to run.
    static func slice(of checksum: String, count: Int) -> Int {
        Int(UInt32(checksum.prefix(8), radix: 16) ?? 0) % max(1, count)
    }

    /// Records a run's verified blocks; blocks no backup lists any more are dropped.
    public mutating func record(run: Int, verified: Set<String>, listed: Set<String>) {
        runs = max(runs, run)
        for checksum in verified { blocks[checksum] = run }
        blocks = blocks.filter { listed.contains($0.key) }
    }

    // MARK: - In the store

    /// Where `--ledger-in-store` keeps it: beside Longhorn's `backupstore/` folder under the
    /// target's path, never inside it.
    public static let storeKey = "longhorn-dr/assure-ledger.json"

    /// The ledger in `store` under the target's `prefix`, or a new one when there is none yet.
    public static func load(from store: any ObjectStore, prefix: String, storeURL: String) async throws -> VerifiedBlockLedger {
        let key = prefix + storeKey
        let data: Data
        do {
            data = try await store.get(key)
        } catch let error as BackupstoreError where error.code == .notFound {
            return VerifiedBlockLedger(store: storeURL)
        }
        return try decode(data, source: "the ledger \(key) in the store", store: storeURL)
    }

    /// Writes it to `store` under the target's `prefix` (one PUT: S3 replaces an object whole).
    public func save(to store: any ObjectStore, prefix: String) async throws {
        try await store.put(prefix + Self.storeKey, data: try encoded())
    }

    // MARK: - File

    /// The ledger at `url`, or a new one when there is none yet. A ledger of another store, or
    /// one that cannot be read, is an error naming the file: silently starting over would hide
    /// a mix-up, and re-verifying everything is only a `--full` away.
    public static func load(from url: URL, store: String) throws -> VerifiedBlockLedger {
        guard FileManager.default.fileExists(atPath: url.path) else { return VerifiedBlockLedger(store: store) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw LedgerError(message: "the ledger \(url.path) cannot be read (\(error)); check its permissions")
        }
        return try decode(data, source: "the ledger \(url.path)", store: store)
    }

    /// A ledger read from `source`, checked to be `store`'s.
    static func decode(_ data: Data, source: String, store: String) throws -> VerifiedBlockLedger {
        let ledger: VerifiedBlockLedger
        do {
            ledger = try JSONDecoder().decode(VerifiedBlockLedger.self, from: data)
        } catch {
            throw LedgerError(message: "\(source) cannot be read (\(error)); move it away to start a new one (the next run then reads every block)")
        }
        guard ledger.store == store else {
            throw LedgerError(message: "\(source) belongs to store \(ledger.store), not \(store); give each store its own ledger")
        }
        return ledger
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    public func save(to url: URL) throws {
        let data = try encoded()
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8))")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw LedgerError(message: "cannot write the ledger next to \(url.path); check that the folder is writable")
        }
        // rename(2): the old ledger or the new one, never half of either.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw LedgerError(message: "cannot replace the ledger \(url.path): \(reason)")
        }
    }
}

/// The ledger file cannot be used; the message says what to do.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
