import Foundation
import ProcessRunner
import Synchronization

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

    /// Runs the binary from the package root, with `environment` added to this process's.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let binary = try binary().path
        // env -C: ProcessRunner has no working-directory option (posix_spawn's chdir action is
        // not reachable from Swift here), and the tests' relative paths start at the package root.
        return try await TestTool.run(
            "/usr/bin/env", ["-C", packageRoot.path, binary] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }
}

/// Runs the other tools tests need (reference lz4, gzip, openssl, python3, kubectl): through
/// ProcessRunner, so a test waiting for one never blocks a thread of the concurrency pool that
/// every other test shares (the pool has one thread per core; a blocking wait stalled them all).
public enum TestTool {
    /// `name` from PATH (then the system folders); a missing tool fails the test with `hint`.
    public static func locate(_ name: String, hint: String) throws -> String {
        guard let path = ToolLocator.locate(name) else {
            throw CLIError(message: "`\(name)` is not on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "")): \(hint)")
        }
        return path
    }

    /// Runs `executable` to its end; `input` goes to its standard input.
    public static func run(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> CLIProcess.Result {
        let outcome = try await ProcessRunner.run(
            ProcessRequest(
                executable: executable, arguments: arguments, environment: environment,
                standardInput: input))
        return CLIProcess.Result(
            status: outcome.status, stdout: String(decoding: outcome.standardOutput, as: UTF8.self),
            stderr: String(decoding: outcome.standardError, as: UTF8.self))
    }

    /// Runs it and throws, with its standard error, unless it exits 0.
    @discardableResult
    public static func succeed(_ executable: String, _ arguments: [String], input: Data? = nil) async throws -> String {
        let result = try await run(executable, arguments, input: input)
        guard result.status == 0 else {
            throw CLIError(message: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }
}

public struct CLIError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// A tool a test keeps running in the background (a server), started through ProcessRunner's
/// ChildProcess: its output is kept, and `stop` ends its whole process group.
public final class BackgroundTool: Sendable {
    private final class Record: Sendable {
        let state = Mutex<(output: Data, status: Int32?)>((Data(), nil))
    }

    private let child: ChildProcess
    private let record = Record()

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let record = record
        child = try ChildProcess(ProcessRequest(executable: executable, arguments: arguments, environment: environment), acceptsInput: false) {
            event in
            record.state.withLock { state in
                switch event {
                case .standardOutput(let data): state.output.append(data)
                case .standardError: break
                case .exited(let status): state.status = status
                }
            }
        }
    }

    /// Set once it ended.
    public var exitStatus: Int32? { record.state.withLock { $0.status } }

    /// The first line it wrote, once it has; throws when it ends first or takes over `limit`.
    public func firstLine(within limit: Duration = .seconds(90)) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            // Looked at once more after the deadline: a test task that resumes late (a busy
            // machine) must not miss a line that arrived meanwhile.
            let late = clock.now >= deadline
            let (output, status) = record.state.withLock { ($0.output, $0.status) }
            if let newline = output.firstIndex(of: 0x0A) { return String(decoding: output[..<newline], as: UTF8.self) }
            if let status { throw CLIError(message: "the background tool exited with status \(status) before writing a line") }
            if late { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CLIError(message: "the background tool wrote no line in \(limit)")
    }

    /// Ends its whole process group: TERM now, KILL to what is left after two seconds.
    public func stop() { child.stop(grace: .seconds(2)) }
}
