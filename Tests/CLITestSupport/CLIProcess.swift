import Foundation

/// Runs the built `longhorn-dr` binary as a separate process, the way users and Task run it.
/// The one place tests find and run the binary.
public struct CLIProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Both streams, for assertions that do not care where a message went.
        public var all: String { stdout + "\n" + stderr }
    }

    /// The package root, found from this file's location.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary next to the test bundle (`swift build` puts both in the same folder), or
    /// `LONGHORN_DR_BIN`. A missing binary fails the test: it is a broken build, not a skip.
    public static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["LONGHORN_DR_BIN"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is `<bin>/longhorn-drPackageTests.xctest`; on macOS it sits inside a bundle.
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("longhorn-dr")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        throw CLIError(message: "longhorn-dr binary not found next to \(CommandLine.arguments[0]); run `swift build` first or set LONGHORN_DR_BIN")
    }

    /// Runs the binary on a thread of its own: a whole exercise takes many seconds, and a test
    /// blocking a thread of the shared concurrency pool that long stalls every other test (the
    /// pool has one thread per core).
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, environment: environment) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read before waiting so a full pipe cannot block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

public struct CLIError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
