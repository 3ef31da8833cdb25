import DRCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the exercise's own commands (destroy, rebuild, a kubeconfig command) from argument arrays,
/// never through a shell. Output goes to standard error as it comes, so the operator watches
/// terraform or talosctl work.
///
/// Each command runs in a process group of its own. Cancelling the calling task (a phase out of
/// budget, Ctrl-C) sends SIGTERM to the whole group (task, terragrunt, terraform, providers), then
/// SIGKILL after `grace`; the call returns only once the command has ended. A wrapper that traps
/// SIGTERM (Task does) cannot leave terragrunt running on behind the exercise's back.
///
/// Spawned with posix_spawn and reaped with a blocking waitpid on a thread of its own: rebuild
/// scripts commonly leave daemons behind (a cluster's tooling), and Foundation's Process on Linux
/// was seen never to report such a command's exit.
enum CommandRunner {
    /// How long a cancelled command's group gets between SIGTERM and SIGKILL.
    static let defaultGrace: Duration = .seconds(30)

    /// Set for every command: terragrunt asks its own questions (which -auto-approve does not
    /// answer) and standard input is /dev/null, so an unanswered prompt would fail the phase.
    static let environment = ["TG_NON_INTERACTIVE": "true", "TERRAGRUNT_NON_INTERACTIVE": "true"]

    /// Runs `argv` to completion, its output shown live.
    static func run(_ argv: [String], purpose: String, grace: Duration = defaultGrace) async throws {
        _ = try await execute(argv, purpose: purpose, captureOutput: false, grace: grace)
    }

    /// Runs `argv` and returns its standard output (not shown: it may hold credentials). With
    /// `quiet`, its standard error is dropped too (a tool's banner).
    static func output(_ argv: [String], purpose: String, quiet: Bool = false, grace: Duration = defaultGrace) async throws -> Data {
        try await execute(argv, purpose: purpose, captureOutput: true, quiet: quiet, grace: grace)
    }

    private static func execute(_ argv: [String], purpose: String, captureOutput: Bool, quiet: Bool = false, grace: Duration) async throws -> Data {
        guard let name = argv.first, !name.isEmpty else {
            throw DRError(.usage, subject: "the \(purpose) command", detail: "is empty", hint: "set it in the exercise config as an argument list")
        }
        guard let executable = ToolLocator.locate(name) else {
            throw DRError(.environment, subject: "the \(purpose) command \(name)", detail: "is not found on PATH",
                hint: "install it, or give its full path in the exercise config")
        }
        var pipeEnds: [Int32] = [-1, -1]
        if captureOutput, pipe(&pipeEnds) != 0 {
            throw DRError(.environment, subject: "the \(purpose) command", detail: "cannot make a pipe: errno \(errno)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
            posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        } else {
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        }
        // The child starts with default signal handling and nothing blocked, whatever this process
        // ignores (SIGPIPE, or SIGTERM under some supervisors), so cancelling can stop it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        // A group of its own (pgid = its pid): the terminal's Ctrl-C reaches only this process,
        // which then stops the whole group deliberately.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let arguments = argv.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var inherited = ProcessInfo.processInfo.environment
        inherited.merge(environment) { _, new in new }
        let variables = inherited.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for variable in variables { free(variable) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, arguments, variables)
        if captureOutput { close(pipeEnds[1]) }
        guard spawned == 0 else {
            if captureOutput { close(pipeEnds[0]) }
            throw DRError(.environment, subject: "the \(purpose) command \(name)", detail: "cannot start: \(String(cString: strerror(spawned)))")
        }
        let readEnd = pipeEnds[0]
        let child = pid
        let stop = GroupStop()
        let (status, output) = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<(Int32, Data), Never>) in
                Thread.detachNewThread {
                    var collected = Data()
                    if captureOutput {
                        var buffer = [UInt8](repeating: 0, count: 65_536)
                        while true {
                            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                            if count <= 0 { break }
                            collected.append(contentsOf: buffer[0..<count])
                        }
                        close(readEnd)
                    }
                    var raw: Int32 = 0
                    while waitpid(child, &raw, 0) == -1, errno == EINTR {}
                    continuation.resume(returning: (raw, collected))
                }
            }
        } onCancel: {
            stop.begin(child, grace: grace)
        }
        // The leader is gone, but a member that ignores SIGTERM (terraform under a Task that
        // exited on it) may live on: wait for the group to end, killing it after the grace.
        await stop.finish(child, grace: grace)
        // WIFEXITED / WEXITSTATUS, WIFSIGNALED / WTERMSIG, spelled out (they are C macros).
        let exited = status & 0x7f == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard code == 0 else {
            throw DRError(.infrastructure, subject: "the \(purpose) command (\(CommandText.redacted(argv)))",
                detail: exited ? "exited with status \(code)" : "was killed by signal \(status & 0x7f)",
                hint: "its output is above; fix the cause, then run the exercise again with --resume")
        }
        return output
    }

}

/// Stopping a cancelled command's process group: SIGTERM to the group, SIGKILL to whatever of it
/// is left after the grace, and `finish` returns only once the group is empty, so nothing of it
/// outlives the exercise (the process may exit right after). The group id stays reserved while
/// any member lives, so a late signal cannot reach a stranger.
final class GroupStop: Sendable {
    private let started = Mutex<ContinuousClock.Instant?>(nil)

    /// SIGTERM now; SIGKILL after `grace` even while the leader still runs (one that ignores
    /// SIGTERM would otherwise never be reaped).
    func begin(_ leader: pid_t, grace: Duration) {
        started.withLock { $0 = $0 ?? .now }
        kill(-leader, SIGTERM)
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            kill(-leader, SIGKILL)
        }
    }

    /// After the leader was reaped: when the command was stopped, waits until no member of its
    /// group is left, sending SIGKILL once the grace is over.
    func finish(_ leader: pid_t, grace: Duration) async {
        guard let start = started.withLock({ $0 }) else { return }
        // On a thread of its own: the task is cancelled, so Task.sleep would not wait.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                let giveUp = start + grace + .seconds(10)
                var killed = false
                while Self.hasLiveMember(leader), ContinuousClock.now < giveUp {
                    if !killed, ContinuousClock.now >= start + grace {
                        kill(-leader, SIGKILL)
                        killed = true
                    }
                    usleep(50_000)
                }
                continuation.resume()
            }
        }
    }

    /// Whether any process of the group still runs. A member killed but not yet reaped (a
    /// zombie, when PID 1 of a container does not reap) no longer counts.
    static func hasLiveMember(_ group: pid_t) -> Bool {
        guard kill(-group, 0) == 0 else { return false }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return true }
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { continue }
            // After the command name: state, ppid, pgrp, ...
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 2, pid_t(fields[2]) == group, fields[0] != "Z" { return true }
        }
        return false
    }
}

/// Finds a command the way a shell would, plus the sbin folders where e2fsprogs' debugfs lives
/// but which a user's PATH often lacks. One place for every tool lookup of the exercise and
/// the CLI.
public enum ToolLocator {
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] where !folder.isEmpty {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
