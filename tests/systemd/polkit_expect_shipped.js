// The rule as packaged: it allows nothing to anyone.
expect("rules added", polkit._rules.length, 1);
expect("certagent reload nginx.service (shipped)", polkit._run(unitAction("nginx.service", "reload"), subjectOf("certagent")), null);
expect("certagent restart nginx.service (shipped)", polkit._run(unitAction("nginx.service", "restart"), subjectOf("certagent")), null);
done();
