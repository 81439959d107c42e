import Foundation
import Testing
@testable import Operations
import Storage
import TradingDomain

/// Notifications are chosen by an event's kind and the facts in its data, never by its message text.
@Suite("Notification choice")
struct NotificationChoiceTests {
    func event(_ kind: EventKind, message: String = "", data: String? = nil) -> EventRow {
        EventRow(id: 1, runID: 1, time: 0, kind: kind, symbol: "BTCUSDT", message: message, data: data)
    }

    @Test func anExitIsATransitionToClosedOfAPositionThatHeldSomething() throws {
        let exit = event(.transition, message: "anything", data: #"{"exit_reason":"stop_loss","from":"CLOSING","position_id":"3","to":"CLOSED"}"#)
        #expect(try Notifier.kind(of: exit) == "exit")
        // The message text does not matter, neither way.
        let failedEntry = event(.transition, message: "position 3 MONITORING → CLOSED: closed (stop_loss)",
                                data: #"{"exit_reason":"entry_failed","from":"OPEN","position_id":"3","to":"CLOSED"}"#)
        #expect(try Notifier.kind(of: failedEntry) == nil)
        let closing = event(.transition, message: "→ CLOSED", data: #"{"exit_reason":"take_profit","from":"MONITORING","to":"CLOSING"}"#)
        #expect(try Notifier.kind(of: closing) == nil)
    }

    @Test func anEntryFillIsAFillOfAnEntryOrder() throws {
        #expect(try Notifier.kind(of: event(.fill, message: "EXIT SELL", data: #"{"purpose":"ENTRY","trade_id":"1"}"#)) == "entry_fill")
        #expect(try Notifier.kind(of: event(.fill, message: "ENTRY BUY", data: #"{"purpose":"EXIT","trade_id":"1"}"#)) == nil)
        #expect(try Notifier.kind(of: event(.fill, message: "ENTRY BUY")) == nil)
    }

    @Test func operatorEventsAreNotifiedByKind() throws {
        #expect(try Notifier.kind(of: event(.safeModeEntered)) == "safe_mode_entered")
        #expect(try Notifier.kind(of: event(.protectionTriggered)) == "protection_triggered")
        #expect(try Notifier.kind(of: event(.cycleFailed)) == "cycle_failed")
        #expect(try Notifier.kind(of: event(.decision, message: "→ CLOSED")) == nil)
    }

    @Test func eventDataThatIsNotAnObjectOfStringsIsACorruptRow() {
        #expect(throws: CorruptRow.self) { try Notifier.kind(of: event(.transition, data: "[1, 2]")) }
    }
}
