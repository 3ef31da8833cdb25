import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An object store in a local directory: key "a/b/c" is the file `<root>/a/b/c`.
///
/// Useful for NFS-style targets, fixtures and tests. Writes go to a temporary file in the same directory
/// and are renamed into place, so a reader sees either the old object or the whole new one.
/// The calls do blocking file I/O; objects are at most a few MiB (one block), which keeps that short.
public struct FileSystemObjectStore: ObjectStore {
    public let root: URL
    /// Temporary files start with this; `list` hides them.
    static let temporaryPrefix = ".tmp-"

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// The file for `key`.
    ///
    /// - Throws: `.invalidArgument` for keys that are empty, absolute, or contain "." or ".." components
    ///   (they would escape the root or alias other keys).
    public func fileURL(for key: String) throws(BackupstoreError) -> URL {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !key.hasSuffix("/"),
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") })
        else {
            throw BackupstoreError(
                .invalidArgument, subject: key, detail: "not a valid object key for a file system store",
                hint: "keys are relative paths without empty, \".\" or \"..\" parts", key: key)
        }
        return root.appendingPathComponent(key, isDirectory: false)
    }

    public func get(_ key: String) async throws -> Data {
        let url = try fileURL(for: key)
        guard isRegularFile(url) else { throw BackupstoreError.objectNotFound(key) }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw ioError(key, "cannot read", error)
        }
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> Data {
        let url = try fileURL(for: key)
        guard isRegularFile(url) else { throw BackupstoreError.objectNotFound(key) }
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let start = UInt64(max(0, range.lowerBound))
            let length = Int(clamping: max(0, range.upperBound - max(0, range.lowerBound)))
            try handle.seek(toOffset: start)
            return try handle.read(upToCount: length) ?? Data()
        } catch {
            throw ioError(key, "cannot read a range of", error)
        }
    }

    public func put(_ key: String, data: Data) async throws {
        let url = try fileURL(for: key)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(Self.temporaryPrefix + UUID().uuidString)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ioError(key, "cannot write", error)
        }
        // rename(2) replaces the target atomically; FileManager.moveItem refuses an existing target.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw BackupstoreError(
                .io, subject: key, detail: "cannot move the new object into place: \(reason)", key: key)
        }
    }

    public func list(prefix: String) async throws -> [String] {
        // Walk only the deepest directory the prefix names, then filter by the full prefix.
        let directoryPart: String
        if let slash = prefix.lastIndex(of: "/") {
            directoryPart = String(prefix[...slash])
        } else {
            directoryPart = ""
        }
        let directory = directoryPart.isEmpty ? root : root.appendingPathComponent(directoryPart, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { return [] }
        guard
            let enumerator = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: [.isRegularFileKey], options: [])
        else {
            throw BackupstoreError(.io, subject: directory.path, detail: "cannot list directory")
        }
        let basePath = directory.standardizedFileURL.path
        var keys: [String] = []
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            if url.lastPathComponent.hasPrefix(Self.temporaryPrefix) { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(basePath) else { continue }
            var relative = String(path.dropFirst(basePath.count))
            while relative.hasPrefix("/") { relative.removeFirst() }
            let key = directoryPart + relative
            if key.hasPrefix(prefix) { keys.append(key) }
        }
        return keys.sorted()
    }

    public func head(_ key: String) async throws -> ObjectInfo? {
        let url = try fileURL(for: key)
        guard isRegularFile(url) else { return nil }
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            return ObjectInfo(size: size)
        } catch {
            throw ioError(key, "cannot stat", error)
        }
    }

    public func delete(_ key: String) async throws {
        let url = try fileURL(for: key)
        guard isRegularFile(url) else { return }
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw ioError(key, "cannot delete", error)
        }
    }

    private func isRegularFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    private func ioError(_ key: String, _ action: String, _ error: any Error) -> BackupstoreError {
        BackupstoreError(
            .io, subject: key, detail: "\(action) \(root.path)/\(key)",
            hint: "check that the directory exists and is readable and writable", key: key, underlying: error)
    }
}
