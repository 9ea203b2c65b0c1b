// A stand-in for polkitd's JavaScript environment, as polkit 122 sets it up
// (src/polkitbackend/init.js): polkit.Result's values, addRule() collecting the
// rules, and runRules() returning the first result that is not NOT_HANDLED (null).
// Loaded before the rule file under test by tests/systemd/polkit-rule-test.
var polkit = {
    Result: {NO: "no", YES: "yes", AUTH_SELF: "auth_self", AUTH_SELF_KEEP: "auth_self_keep",
             AUTH_ADMIN: "auth_admin", AUTH_ADMIN_KEEP: "auth_admin_keep", NOT_HANDLED: null},
    _rules: [],
    addRule: function(f) { this._rules.push(f); },
    log: function(msg) { print("polkit.log: " + msg); },
    _run: function(action, subject) {
        for (var i = 0; i < this._rules.length; i++) {
            var r = this._rules[i](action, subject);
            if (r !== null && r !== undefined) return r;
        }
        return null;
    },
};

// What systemd 252 passes for a unit job: action id, details "unit" and "verb".
function unitAction(unit, verb, id) {
    var details = {unit: unit, verb: verb};
    return {id: id || "org.freedesktop.systemd1.manage-units",
            lookup: function(k) { return details.hasOwnProperty(k) ? details[k] : undefined; }};
}
function subjectOf(user) { return {user: user, groups: [user], local: false, active: false, isInGroup: function(g) { return g === user; }}; }

var failures = 0;
function expect(what, got, want) {
    if (got !== want) { print("FAIL " + what + ": got " + got + ", want " + want); failures++; }
    else print("ok   " + what + ": " + got);
}
function done() { if (failures > 0) throw new Error(failures + " expectation(s) failed"); print("all expectations met"); }
