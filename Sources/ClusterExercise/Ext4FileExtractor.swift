import Crypto
import DRCore
import Foundation
import ProcessRunner

/// Copies one file out of an ext4 image with e2fsprogs' `debugfs` and hashes it. The one place
/// that does this: `backup verify --file`, the exercise's store check (real and simulated).
///
/// `debugfs` is run directly with an argument array, never through a shell; the path reaches it
/// only inside its own `-R` request, quoted, and paths that could break out of the quotes are refused.
/// `debugfs` exits 0 even when the file is missing, so success is judged by the output file:
/// a missing file is a verification failure, never the hash of nothing.
public enum Ext4FileExtractor {
    public struct Extracted: Sendable, Equatable {
        public var path: String
        public var size: Int64
        public var sha256: String
    }

    /// `debugfs`, looked up on PATH and in the sbin folders Debian installs it to.
    public static func locateDebugfs() throws -> String {
        if let path = ToolLocator.locate("debugfs") { return path }
        throw DRError(
            .environment, subject: "debugfs", detail: "e2fsprogs' debugfs is not installed",
            hint: "install e2fsprogs (Debian: apt-get install e2fsprogs)")
    }

    /// Refuses paths that `debugfs`' request parser would read differently from the user.
    public static func validate(_ path: String) throws {
        guard !path.isEmpty, !path.contains("\""), !path.contains("\n"), !path.contains("\r"), !path.contains("\0") else {
            throw DRError(
                .usage, subject: "file \(path)", detail: "the path is empty or contains a quote or line break",
                hint: "give the file's path inside the volume's filesystem, e.g. /sentinel.txt")
        }
    }

    /// Extracts `path` from `image` into `folder` (as a 0600 file, removed afterwards) and returns
    /// its size and SHA-256. Each call has a file of its own: several volumes are checked at once
    /// in one folder, and a shared name once handed one volume's sentinel to another's check.
    /// - Throws: `DRError` `.verificationFailed` when the file is not in the image (or the image is not ext4).
    public static func extract(path: String, from image: URL, into folder: URL) async throws -> Extracted {
        try validate(path)
        let debugfs = try locateDebugfs()
        let inside = path.hasPrefix("/") ? path : "/" + path
        let output = folder.appendingPathComponent("extracted-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        // debugfs creates the file with the umask's mode; a backup's data is nobody else's business.
        let previous = umask(0o077)
        defer { umask(previous) }
        _ = try await CommandRunner.output([debugfs, "-R", "dump \"\(inside)\" \"\(output.path)\"", image.path], purpose: "debugfs", quiet: true)
        guard FileManager.default.fileExists(atPath: output.path) else {
            throw DRError(
                .verificationFailed, subject: "file \(inside) in the backup's filesystem",
                detail: "is not there (debugfs found no such file, or the image is not ext4)",
                hint: "check the path (it is inside the volume's ext4 filesystem, e.g. /sentinel.txt); a backup without the file proves nothing about it")
        }
        let (size, digest) = try sha256(of: output)
        return Extracted(path: inside, size: size, sha256: digest)
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    public static func sha256(of file: URL) throws -> (Int64, String) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
