/**
 * The generated typed client (client/, from the committed openapi.json) against the real Worker:
 * one journey a frontend developer would write — a coach and a client sign up, the client answers
 * the quiz through PUT /profile, asks POST /match, and finds the coach with GET /coaches. Every
 * call below is type-checked against the document (npm test runs tsc over it).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCultureBridgeClient, type Schemas } from "../../client/src/index.ts";
import { WEEK_AVAILABILITY } from "../../scripts/lib/samples.ts";
import { baseUrl } from "../helpers/api.ts";

const PASSWORD = "Journey#Pass1";

describe("typed client (client/) against the Worker", () => {
  it("signup -> quiz via PUT /profile -> POST /match -> GET /coaches", async () => {
    const tag = randomUUID().slice(0, 8);
    const expertise = `client journey ${tag}`;
    const anonymous = createCultureBridgeClient(baseUrl());

    // A coach with a distinctive expertise, so GET /coaches can find exactly this one.
    const coachSignup = await anonymous.POST("/auth/signup", {
      body: { email: `coach-${tag}@client-journey.test`, password: PASSWORD, role: "coach" },
    });
    expect(coachSignup.response.status).toBe(201);
    const coachToken = coachSignup.data?.access_token;
    expect(coachToken).toBeTypeOf("string");
    const coach = createCultureBridgeClient(baseUrl(), coachToken);
    const coachProfile = await coach.PUT("/profile", {
      body: {
        first_name: "Journey",
        last_name: "Coach",
        bio: "Helps newcomers settle in Spain",
        expertise: [expertise, "cultural adaptation"],
        languages: ["English", "Spanish"],
        countries: ["Spain"],
        hourly_rate: 90,
        currency: "EUR",
        availability: WEEK_AVAILABILITY,
      },
    });
    expect(coachProfile.error, JSON.stringify(coachProfile.error)).toBeUndefined();
    expect(coachProfile.response.status).toBe(200);

    // The client signs up and answers the 20-factor quiz; the token comes from a function.
    const clientSignup = await anonymous.POST("/auth/signup", {
      body: { email: `client-${tag}@client-journey.test`, password: PASSWORD, role: "client" },
    });
    expect(clientSignup.response.status).toBe(201);
    let clientToken: string | undefined = clientSignup.data?.access_token;
    const client = createCultureBridgeClient(baseUrl(), () => clientToken);
    const quiz: Schemas["QuizData"] = {
      target_countries: ["Spain"],
      cultural_goals: ["integrate into local culture"],
      preferred_languages: ["English"],
      industry: "technology",
      family_status: "single",
      previous_expat_experience: false,
      timeline_urgency: 3,
      budget_range: { min: 50, max: 150 },
      coaching_style: "collaborative",
      specific_challenges: ["language barrier"],
      home_country: "Germany",
      current_country: "Spain",
      relocation_stage: "recently_arrived",
      career_level: "mid_career",
      communication_style: "direct",
      preferred_session_duration: 60,
      session_frequency: "weekly",
      preferred_times: ["morning"],
      timezone: "Europe/Madrid",
      languages_learning: ["Spanish"],
    };
    const profile = await client.PUT("/profile", { body: { first_name: "Journey", last_name: "Client", quiz_data: quiz } });
    expect(profile.error, JSON.stringify(profile.error)).toBeUndefined();
    expect(profile.response.status).toBe(200);

    const match = await client.POST("/match", { body: { limit: 10 } });
    expect(match.error, JSON.stringify(match.error)).toBeUndefined();
    const matches = match.data?.matches ?? [];
    expect(matches.length).toBeGreaterThan(0);
    const scores = matches.map((entry) => entry.match_score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    // The repeatable filter is an array in the generated types (?expertise=...&expertise=...).
    const coaches = await client.GET("/coaches", { params: { query: { expertise: [expertise], limit: 5 } } });
    expect(coaches.error).toBeUndefined();
    expect(coaches.data?.total).toBe(1);
    expect(coaches.data?.items[0]).toMatchObject({ first_name: "Journey", hourly_rate: 90, currency: "EUR" });

    // Errors come back typed as the envelope; the token function is asked on every call.
    clientToken = undefined;
    const anonymousMatch = await client.POST("/match", { body: {} });
    expect(anonymousMatch.response.status).toBe(401);
    expect(anonymousMatch.error?.error.code).toBe("UNAUTHORIZED");
    expect(anonymousMatch.response.headers.get("x-request-id")).toBe(anonymousMatch.error?.error.request_id);
  });
});
