import Foundation
import ProcessRunner
import Synchronization
import Testing

@Suite struct ProcessRunnerTests {
    static func sh(
        _ script: String, _ arguments: [String] = [], standardError: ProcessRequest.Output = .capture, timeout: Duration? = nil,
        grace: Duration = .seconds(30), drainLimit: Duration? = nil
    ) -> ProcessRequest {
        ProcessRequest(
            executable: "/bin/sh", arguments: ["-c", script, "sh"] + arguments, standardError: standardError, timeout: timeout,
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
        let outcome = try await ProcessRunner.run(Self.sh(script, [pidFile.path], timeout: .seconds(3), grace: .milliseconds(300)))
        #expect(outcome.timedOut && !outcome.succeeded)
        let child = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Self.alive(child) == false, "the child that ignored SIGTERM is gone when the call returns")
    }

    @Test func cancellingTheCallerStopsTheProgram() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-pr-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: pidFile) }
        let running = Task { try await ProcessRunner.run(Self.sh(#"echo $$ > "$1"; exec sleep 600"#, [pidFile.path], grace: .milliseconds(300))) }
        var leader: Int32?
        let deadline = ContinuousClock.now + .seconds(90)
        while leader == nil, ContinuousClock.now < deadline {
            leader = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try await Task.sleep(for: .milliseconds(10))
        }
        running.cancel()
        let outcome = try await running.value
        #expect(outcome.signal == SIGTERM)
        let started = try #require(leader, "the program never wrote its pid")
        #expect(Self.alive(started) == false)
    }

    /// A daemon the program left behind keeps the output pipe open for ten minutes; the call
    /// still returns, after the drain limit, with what was written.
    @Test(.timeLimit(.minutes(2))) func aLeftoverChildHoldingTheOutputDoesNotHoldTheCall() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-pr-\(UUID().uuidString)")
        defer {
            if let pid = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                kill(pid, SIGKILL)
            }
            try? FileManager.default.removeItem(at: pidFile)
        }
        let outcome = try await ProcessRunner.run(Self.sh(#"echo ready; setsid sleep 600 & echo $! > "$1""#, [pidFile.path], drainLimit: .milliseconds(300)))
        #expect(outcome.succeeded)
        #expect(Self.text(outcome.standardOutput) == "ready\n")
    }

    /// A program still open for writing somewhere (a script a test just wrote, whose descriptor
    /// another thread's child inherited for a moment) cannot be executed: "Text file busy". The
    /// start waits for that to pass instead of failing.
    @Test func aProgramBusyForAMomentStillStarts() async throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-busy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: script) }
        try Data("#!/bin/sh\necho started\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let writer = open(script.path, O_WRONLY)
        try #require(writer >= 0)
        Thread.detachNewThread {
            usleep(100_000)
            close(writer)
        }
        let outcome = try await ProcessRunner.run(ProcessRequest(executable: script.path))
        #expect(Self.text(outcome.standardOutput) == "started\n")
    }

    @Test func aChildGetsNoDescriptorButItsThree() async throws {
        let stray = open("/dev/null", O_RDONLY)  // no O_CLOEXEC, as Foundation's own opens
        defer { close(stray) }
        let outcome = try await ProcessRunner.run(Self.sh("ls /proc/$$/fd"))
        let descriptors = Self.text(outcome.standardOutput).split(separator: "\n").compactMap { Int32($0) }
        #expect(!descriptors.contains(stray), "the child inherited descriptor \(stray): \(descriptors)")
        #expect(descriptors.allSatisfy { $0 <= 2 || $0 >= 10 }, "only stdin, stdout, stderr (and the shell's own high ones): \(descriptors)")
    }

    @Test func standardInputIsWrittenThenClosed() async throws {
        let input = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let outcome = try await ProcessRunner.run(ProcessRequest(executable: "/bin/cat", standardInput: input))
        #expect(outcome.succeeded)
        #expect(outcome.standardOutput == input, "more than a pipe's buffer goes through, and cat sees the end")
    }

    @Test func aProgramThatIgnoresItsInputStillEnds() async throws {
        let outcome = try await ProcessRunner.run(Self.sh("exit 0").with(input: Data(count: 1 << 20)))
        #expect(outcome.succeeded)
    }

    /// Children started at the same time from many tasks each hold only their own pipes: if a
    /// long-running one inherited a short one's output pipe, the short one's call would wait for
    /// the long one (here: until the time limit fails the test).
    @Test(.timeLimit(.minutes(2))) func concurrentChildrenDoNotHoldEachOthersOutput() async throws {
        let sleepers = (0..<4).map { _ in Task { try await ProcessRunner.run(Self.sh("exec sleep 600", grace: .milliseconds(200))) } }
        defer { for sleeper in sleepers { sleeper.cancel() } }
        let quick = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<40 { group.addTask { try await ProcessRunner.run(Self.sh("echo \(index)")).succeeded } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(quick == 40)
        for sleeper in sleepers { sleeper.cancel() }
        for sleeper in sleepers { #expect(try await sleeper.value.signal == SIGTERM, "the sleepers were still running") }
    }

    static func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(end, offsetBy: 2)] != "Z"
    }
}

extension ProcessRequest {
    func with(input: Data) -> ProcessRequest {
        var copy = self
        copy.standardInput = input
        return copy
    }
}

@Suite struct ChildProcessTests {
    /// Collects a child's events in order.
    final class Recorder: Sendable {
        let events = Mutex<[ChildProcess.Event]>([])
        func add(_ event: ChildProcess.Event) { events.withLock { $0.append(event) } }
        var all: [ChildProcess.Event] { events.withLock { $0 } }
        var exited: Bool { all.contains { if case .exited = $0 { true } else { false } } }
        var output: String {
            String(decoding: all.reduce(into: Data()) { data, event in if case .standardOutput(let chunk) = event { data += chunk } }, as: UTF8.self)
        }

        func waitForExit() async throws {
            let deadline = ContinuousClock.now + .seconds(90)
            while !exited, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    @Test func inputWrittenWhileItRunsComesBackAndExitIsLast() async throws {
        let recorder = Recorder()
        let child = try ChildProcess(ProcessRequest(executable: "/bin/cat"), acceptsInput: true) { recorder.add($0) }
        child.write(Data("one\n".utf8))
        child.write(Data("two\n".utf8))
        child.closeInput()
        try await recorder.waitForExit()
        #expect(recorder.output == "one\ntwo\n")
        #expect(recorder.all.last == .exited(0))
        #expect(!child.isRunning)
    }

    /// The input pipe's write end stays open in this process while the child runs; a child
    /// started afterwards must not inherit it, or closing the input would never reach `cat`.
    @Test func aChildStartedLaterDoesNotHoldAnotherChildsInputOpen() async throws {
        let recorder = Recorder()
        let cat = try ChildProcess(ProcessRequest(executable: "/bin/cat"), acceptsInput: true) { recorder.add($0) }
        let sleeper = try ChildProcess(ProcessRequest(executable: "/bin/sleep", arguments: ["600"]), acceptsInput: false) { _ in }
        defer { sleeper.stop(grace: .milliseconds(200)) }
        cat.closeInput()
        try await recorder.waitForExit()
        #expect(recorder.all.last == .exited(0), "cat saw the end of its input although another child was started after it")
    }

    @Test func stopEndsTheWholeGroupAndReportsTheSignal() async throws {
        let recorder = Recorder()
        let child = try ChildProcess(ProcessRequest(executable: "/bin/sh", arguments: ["-c", "sleep 600 & echo $!; wait"]), acceptsInput: false) {
            recorder.add($0)
        }
        let started = ContinuousClock.now + .seconds(90)
        while recorder.output.isEmpty, ContinuousClock.now < started { try await Task.sleep(for: .milliseconds(10)) }
        let background = try #require(Int32(recorder.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        child.stop(grace: .milliseconds(500))
        try await recorder.waitForExit()
        #expect(recorder.all.last == .exited(128 + SIGTERM))
        let gone = ContinuousClock.now + .seconds(90)
        while ProcessRunnerTests.alive(background), ContinuousClock.now < gone { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!ProcessRunnerTests.alive(background), "the background child went with the group")
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
