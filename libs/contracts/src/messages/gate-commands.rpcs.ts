import type { TSchema } from '@sinclair/typebox';
import { CommandReply, okReplyOf } from '../errors';
import { defineRpc } from '../registry';
import {
  DisableGoLiveCommand,
  EnableGoLiveCommand,
  EngageKillSwitchCommand,
  PauseEngineCommand,
  RecordChecklistFactCommand,
  ReleaseKillSwitchCommand,
  ResumeEngineCommand,
  SetEngineModeCommand,
  SetExecutionClassCommand,
} from './gate-control.messages';
import {
  ApproveRequestCommand,
  IssueTokenCommand,
  OverrideMaturityCommand,
  PauseStrategyCommand,
  RegisterBaselineCommand,
  RegisterStrategyCommand,
  RejectRequestCommand,
  ResumeStrategyCommand,
  RevokeAllTokensCommand,
  RevokeTokenCommand,
  SetStrategyCapitalCommand,
} from './gate-strategy-commands.messages';

const command = (operation: string, request: TSchema, description: string) =>
  defineRpc({
    service: 'gate',
    operation: `cmd.${operation}`,
    request,
    response: okReplyOf(CommandReply),
    description,
  });

/**
 * The gate's operator commands, `bifrost.rpc.gate.cmd.*`. The caller (the API gateway) puts the
 * authenticated principal in `actor`; every event a command appends carries it.
 */
export const gateCommandRpcs = [
  command(
    'go-live.enable',
    EnableGoLiveCommand,
    'Enable production execution; refused unless every go-live checklist item passed.',
  ),
  command(
    'go-live.disable',
    DisableGoLiveCommand,
    'Disable production execution: PROD_EXEC action kinds are blocked from now on.',
  ),
  command('checklist-fact', RecordChecklistFactCommand, 'Record a go-live checklist fact.'),
  command(
    'kill-switch.engage',
    EngageKillSwitchCommand,
    'Engage the kill switch, global or for one engine (soft lets reduce-only actions through).',
  ),
  command(
    'kill-switch.release',
    ReleaseKillSwitchCommand,
    'Release the kill switch, global or for one engine.',
  ),
  command(
    'execution-class',
    SetExecutionClassCommand,
    'Set where an action kind may execute: OBSERVE_ONLY, SANDBOX_EXEC or PROD_EXEC.',
  ),
  command(
    'engine-mode',
    SetEngineModeCommand,
    "Set how the gate's verdicts apply to an engine: enforce, observe (dry run) or off.",
  ),
  command(
    'engine.pause',
    PauseEngineCommand,
    'Pause an engine until resumed or until the optional cooldown passes.',
  ),
  command('engine.resume', ResumeEngineCommand, "Lift an engine's pause."),
  command(
    'strategy.register',
    RegisterStrategyCommand,
    'Register a strategy at L0 before its first check (optionally with its capital).',
  ),
  command(
    'strategy.override-maturity',
    OverrideMaturityCommand,
    'Override the maturity level (L0..L4), with a reason.',
  ),
  command(
    'strategy.baseline',
    RegisterBaselineCommand,
    'Register the backtest baseline drift is measured against.',
  ),
  command('strategy.capital', SetStrategyCapitalCommand, 'Set the capital drawdown is measured on.'),
  command(
    'strategy.pause',
    PauseStrategyCommand,
    'Pause a strategy until resumed or until the cooldown passes.',
  ),
  command('strategy.resume', ResumeStrategyCommand, 'Resume a paused strategy.'),
  command(
    'strategy.token.issue',
    IssueTokenCommand,
    'Issue an execution token (scope, TTL, optional single use and notional cap).',
  ),
  command('strategy.token.revoke', RevokeTokenCommand, 'Revoke one execution token.'),
  command('strategy.token.revoke-all', RevokeAllTokensCommand, 'Revoke every token of the strategy.'),
  command(
    'strategy.approval.approve',
    ApproveRequestCommand,
    'Approve a REQUIRE_APPROVAL request: a single-use token bound to the action hash (nobody approves their own request).',
  ),
  command('strategy.approval.reject', RejectRequestCommand, 'Reject a REQUIRE_APPROVAL request.'),
];
