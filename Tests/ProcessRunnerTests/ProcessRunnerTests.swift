import Foundation
import ProcessRunner
import Testing

@Suite struct ProcessRunnerTests {
    static func sh(_ script: String, _ arguments: [String] = [], standardError: ProcessRequest.Output = .capture, timeout: Duration? = nil,
        grace: Duration = .seconds(30), drainLimit: Duration? = nil) -> ProcessRequest
    {
        ProcessRequest(executable: "/bin/sh", arguments: ["-c", script, "sh"] + arguments, standardError: standardError, timeout: timeout,
            grace: grace, drainLimit: drainLimit)
    }

    static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func argumentsReachTheProgramAsTheyAreAndBothStreamsAreKeptApart() async throws {
        let outcome = try await ProcessRunner.run(Self.sh(#"printf '%s|' "$@"; echo oops >&2; exit 3"#, ["a b", "$(echo no)", "*"]))
        #expect(Self.text(outcome.standardOutput) == "a b|$(echo no)|*|")
        #expect(Self.text(outcome.standardError) == "oops\n")
        #expect(outcome.status == 3 && outcome.signal == nil && !outcome.succeeded)
    }

    @Test func standardErrorCanJoinStandardOutputInOrder() async throws {
        let outcome = try await ProcessRunner.run(Self.sh("echo one; echo two >&2; echo three", standardError: .intoStandardOutput))
        #expect(Self.text(outcome.standardOutput) == "one\ntwo\nthree\n")
        #expect(outcome.succeeded)
    }

    @Test func aDeathBySignalIsReportedAsShellsDo() async throws {
        let outcome = try await ProcessRunner.run(Self.sh("kill -TERM $$"))
        #expect(outcome.signal == SIGTERM && outcome.status == 128 + SIGTERM)
    }

    @Test func aProgramThatCannotStartIsAnError() async throws {
        await #expect(throws: ProcessStartError.self) {
            _ = try await ProcessRunner.run(ProcessRequest(executable: "/nonexistent/longhorn-dr-test"))
        }
    }

    /// A timeout stops the whole group: a child that ignores SIGTERM is killed after the grace,
    /// and the call returns only once it is gone.
    @Test(.timeLimit(.minutes(2))) func aTimeoutStopsTheWholeGroupIncludingAChildThatIgnoresTerm() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-pr-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: pidFile) }
        let script = #"(trap '' TERM; echo $$ >/dev/null; exec sleep 600) & echo $! > "$1"; wait"#
        let outcome = try await ProcessRunner.run(Self.sh(script, [pidFile.path], timeout: .milliseconds(300), grace: .milliseconds(300)))
        #expect(outcome.timedOut && !outcome.succeeded)
        let child = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Self.alive(child) == false, "the child that ignored SIGTERM is gone when the call returns")
    }

    @Test func cancellingTheCallerStopsTheProgram() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-pr-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: pidFile) }
        let running = Task { try await ProcessRunner.run(Self.sh(#"echo $$ > "$1"; exec sleep 600"#, [pidFile.path], grace: .milliseconds(300))) }
        var leader: Int32?
        for _ in 0..<500 where leader == nil {
            leader = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try await Task.sleep(for: .milliseconds(10))
        }
        running.cancel()
        let outcome = try await running.value
        #expect(outcome.signal == SIGTERM)
        #expect(leader.map(Self.alive) == false)
    }

    /// A daemon the program left behind keeps the output pipe open for ten minutes; the call
    /// still returns, after the drain limit, with what was written.
    @Test(.timeLimit(.minutes(2))) func aLeftoverChildHoldingTheOutputDoesNotHoldTheCall() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-pr-\(UUID().uuidString)")
        defer {
            if let pid = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(at: pidFile)
        }
        let outcome = try await ProcessRunner.run(Self.sh(#"echo ready; setsid sleep 600 & echo $! > "$1""#, [pidFile.path], drainLimit: .milliseconds(300)))
        #expect(outcome.succeeded)
        #expect(Self.text(outcome.standardOutput) == "ready\n")
    }

    static func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(end, offsetBy: 2)] != "Z"
    }
}

@Suite struct ToolLocatorTests {
    @Test func findsCommandsLikeAShell() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-tl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin.appendingPathComponent("folder-tool"), withIntermediateDirectories: true)
        let tool = bin.appendingPathComponent("tool")
        try Data("#!/bin/sh\n".utf8).write(to: tool)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("folder-tool").path)
        #expect(ToolLocator.locate("tool", path: "/nonexistent:\(bin.path)", alsoIn: []) == tool.path)
        #expect(ToolLocator.locate("folder-tool", path: bin.path, alsoIn: []) == nil, "a folder is not a command")
        #expect(ToolLocator.locate("tool", path: "", currentDirectory: bin.path, alsoIn: []) == tool.path, "an empty entry is the current folder")
        #expect(ToolLocator.locate("bin/tool", currentDirectory: folder.path) == tool.path, "a name with a slash is a path")
        #expect(ToolLocator.locate("tool", path: "/nonexistent", alsoIn: []) == nil)
        #expect(ToolLocator.locate("sh", path: "", currentDirectory: "/nonexistent") != nil, "the system folders come last")
    }
}
